// The tokenizer-free bound must never undercount: routing and the 413 check rely on it.
import { expect } from 'chai';
import { countPromptTokens, countTokens, estimateUsage, upperBoundPromptTokens } from '../../server/llm/token-estimator';
import type { ChatMessage } from '../../server/llm/llm.types';

const SAMPLES = [
  '',
  'Hello',
  'What are your opening hours on Sunday?',
  '🙂🚀👩‍👩‍👧‍👦 emoji sequences and flags 🇫🇷🇯🇵',
  '日本語のテキストと中文文本，还有한국어',
  'Ünïcödé àccents — “quotes” … and ½ fractions',
  '<|endoftext|> special token strings are counted as plain text <|im_start|>',
  'function f(x) { return x.map((y) => y * 2).filter(Boolean); }\n'.repeat(20),
  'a'.repeat(5000),
  ' '.repeat(1000),
  '\u0000\u0001\u0002 control characters',
];

describe('token estimator', () => {
  it('the upper bound is never below the exact count', () => {
    for (const content of SAMPLES) {
      for (const role of ['system', 'user', 'assistant'] as const) {
        const messages: ChatMessage[] = [{ role, content }];
        expect(upperBoundPromptTokens(messages), JSON.stringify(content.slice(0, 30))).to.be.at.least(countPromptTokens(messages));
      }
    }
    const conversation: ChatMessage[] = SAMPLES.map((content, index) => ({ role: index % 2 ? 'assistant' : 'user', content }));
    expect(upperBoundPromptTokens(conversation)).to.be.at.least(countPromptTokens(conversation));
  });

  it('counts with a real tokenizer and estimates usage flagged as estimated', () => {
    expect(countTokens('')).to.equal(0);
    expect(countTokens('Hello world')).to.equal(2);
    const usage = estimateUsage({ model: 'x', messages: [{ role: 'user', content: 'Hello world' }] }, 'Hi there');
    expect(usage.source).to.equal('estimated');
    expect(usage.inputTokens).to.be.greaterThan(2);
    expect(usage.outputTokens).to.equal(2);
  });
});
