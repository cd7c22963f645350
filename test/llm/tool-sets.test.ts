// Tool sets shared across calls (#20): a request's tools are checked once per distinct set and shared frozen; a set
// that differs in anything is checked anew (a cached set never lets an invalid one through); what is derived from a
// set is computed once for a frozen set and every time for any other; counts and wire lists equal the uncached ones.
import { expect } from 'chai';
import { checkedToolSet, perToolSet } from '../../server/llm/tool-sets';
import { normalizeChatInput } from '../../server/http/chat-completion-request';
import { countPromptTokens, upperBoundPromptTokens } from '../../server/llm/token-estimator';
import { openAiOptionFields } from '../../server/llm/providers/openai/openai.request-converters';
import { anthropicOptionFields } from '../../server/llm/providers/anthropic/anthropic.request-converters';
import { isDomainError } from '../../server/errors/domain-error';
import type { ToolDefinition } from '../../server/llm/llm.types';

const tool = (name: string, parameters: unknown = { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }) => ({
  type: 'function' as const,
  function: { name, description: `The ${name} tool`, parameters },
});
const input = (tools: ReturnType<typeof tool>[]) => ({ messages: [{ role: 'user' as const, content: 'Weather in Paris?' }], tools });
const toolsOf = (tools: ReturnType<typeof tool>[]) => normalizeChatInput(input(tools), { allowSystem: true }).options!.tools!;

describe('tool sets shared across calls', () => {
  it('the same tools in two requests are one frozen set; other tools are another', () => {
    const first = toolsOf([tool('get_weather'), tool('get_time')]);
    const again = toolsOf([tool('get_weather'), tool('get_time')]);
    expect(again).to.equal(first);
    expect(Object.isFrozen(first)).to.equal(true);
    expect(Object.isFrozen(first[0])).to.equal(true);
    expect(Object.isFrozen(first[0]!.parameters)).to.equal(true);
    expect(() => (first as ToolDefinition[]).push({ name: 'x', parameters: {} })).to.throw(TypeError);
    const other = toolsOf([tool('get_weather'), tool('get_time', { type: 'object', properties: { zone: { type: 'string' } } })]);
    expect(other).to.not.equal(first);
    expect(other[1]!.parameters).to.deep.equal({ type: 'object', properties: { zone: { type: 'string' } } });
  });

  it('a set that differs from a checked one only in an invalid schema or a duplicate name is still refused', () => {
    toolsOf([tool('lookup'), tool('search')]);
    const refusal = (tools: ReturnType<typeof tool>[]) => {
      try {
        toolsOf(tools);
      } catch (error) {
        return isDomainError(error) ? error.code : String(error);
      }
      return 'accepted';
    };
    expect(refusal([tool('lookup'), tool('search', { type: 'string' })])).to.equal('JSON_SCHEMA_INVALID');
    expect(refusal([tool('lookup'), tool('lookup')])).to.equal('VALIDATION_FAILED');
    // Refused sets are not remembered: the same refused set is refused again.
    expect(refusal([tool('lookup'), tool('lookup')])).to.equal('VALIDATION_FAILED');
  });

  it('checks a set once; a refused check is not remembered', () => {
    let checks = 0;
    const text = `{"unique":${Date.now()}}`;
    const check = () => {
      checks += 1;
      return [{ name: 'a', parameters: { type: 'object' } }];
    };
    expect(checkedToolSet(text, check)).to.equal(checkedToolSet(text, check));
    expect(checks).to.equal(1);
    const refused = `${text}-refused`;
    const refuse = () => {
      checks += 1;
      throw new Error('refused');
    };
    expect(() => checkedToolSet(refused, refuse)).to.throw('refused');
    expect(() => checkedToolSet(refused, refuse)).to.throw('refused');
    expect(checks).to.equal(3);
  });

  it('derives once per frozen set and every time for a set that is not frozen', () => {
    let derivations = 0;
    const names = perToolSet((tools) => {
      derivations += 1;
      return tools.map((entry) => entry.name).join(',');
    });
    const frozen = toolsOf([tool('derive_a'), tool('derive_b')]);
    expect(names(frozen)).to.equal('derive_a,derive_b');
    expect(names(frozen)).to.equal('derive_a,derive_b');
    expect(derivations).to.equal(1);
    const open: ToolDefinition[] = [{ name: 'open_a', parameters: { type: 'object' } }];
    expect(names(open)).to.equal('open_a');
    open.push({ name: 'open_b', parameters: { type: 'object' } });
    expect(names(open)).to.equal('open_a,open_b');
    expect(derivations).to.equal(3);
  });

  it('token counts and wire tool lists of a shared set equal those of the same tools unshared', () => {
    const shared = toolsOf([tool('count_a'), tool('count_b', { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } })]);
    const unshared = structuredClone(shared) as ToolDefinition[];
    expect(Object.isFrozen(unshared)).to.equal(false);
    const messages = [{ role: 'user' as const, content: 'Count with tools' }];
    for (let round = 0; round < 2; round += 1) {
      expect(upperBoundPromptTokens(messages, shared)).to.equal(upperBoundPromptTokens(messages, unshared));
      expect(countPromptTokens(messages, shared)).to.equal(countPromptTokens(messages, unshared));
      const request = (tools: ToolDefinition[]) => ({ model: 'm', messages, tools, maxTokens: 10 });
      expect(openAiOptionFields(request(shared))).to.deep.equal(openAiOptionFields(request(unshared)));
      expect(anthropicOptionFields(request(shared))).to.deep.equal(anthropicOptionFields(request(unshared)));
    }
    expect(upperBoundPromptTokens(messages, shared)).to.be.greaterThan(upperBoundPromptTokens(messages));
    expect(openAiOptionFields({ model: 'm', messages, tools: shared, maxTokens: 10 }).tools).to.equal(openAiOptionFields({ model: 'm', messages, tools: shared, maxTokens: 10 }).tools);
  });
});
