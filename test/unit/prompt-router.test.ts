// The prompt router on fixed examples for each setting, a forced model, stickiness and its expiry, the memory's bound.
import { expect } from 'chai';
import { decideRoute, extractFeatures, ROUTING_THRESHOLDS, scorePrompt, tierFor, type RoutingSetting } from '../../server/llm/prompt-router';
import { RoutingStickiness, conversationKey } from '../../server/llm/routing-stickiness';
import type { ChatMessage } from '../../server/llm/llm.types';

const user = (content: string): ChatMessage[] => [{ role: 'user', content }];

const EASY = user('What are your opening hours?');
const ROUTINE = user('Reply to a customer asking how to unsubscribe from our newsletter.');
const MEDIUM = user('Summarise the key differences between the two plans for a small team.');
const HARD_CODE = user('Why does this print the wrong total?\n```js\nlet total = 0;\nawait Promise.all(items.map(async (item) => { total = total + await price(item); }));\n```');
const HARD_ANALYSIS = user('Compare the regulatory approaches to AI in the EU, the US and China: scope, enforcement, risk categories, and what they mean for a startup. Recommend a strategy with the trade-offs.');
const HARD_MATH = user('Prove that the square root of 2 is irrational.');

describe('prompt router', () => {
  it('scores easy requests low and code, analysis and math high, with the feature that decided it', () => {
    const easy = scorePrompt(EASY);
    expect(easy.score).to.be.below(ROUTING_THRESHOLDS.quality);
    expect(easy.reason).to.equal('simple');
    const code = scorePrompt(HARD_CODE);
    expect(code.score).to.be.at.least(ROUTING_THRESHOLDS.savings);
    expect(code.reason).to.equal('code');
    expect(scorePrompt(HARD_ANALYSIS).reason).to.equal('analysis');
    expect(scorePrompt(HARD_MATH).reason).to.equal('math');
    expect(scorePrompt(HARD_MATH).score).to.be.at.least(ROUTING_THRESHOLDS.savings);
  });

  it('decides per setting on fixed examples: the same request can be light under savings and strong under quality', () => {
    const table: Array<[ChatMessage[], Record<Exclude<RoutingSetting, 'off'>, 'light' | 'strong'>]> = [
      [EASY, { quality: 'light', balanced: 'light', savings: 'light' }],
      [HARD_CODE, { quality: 'strong', balanced: 'strong', savings: 'strong' }],
      [HARD_ANALYSIS, { quality: 'strong', balanced: 'strong', savings: 'strong' }],
    ];
    for (const [messages, expected] of table) {
      for (const setting of ['quality', 'balanced', 'savings'] as const) {
        expect(decideRoute({ messages, setting }).tier, `${setting}: ${messages[0]!.content.slice(0, 30)}`).to.equal(expected[setting]);
      }
    }
    // A request between the thresholds: its tier follows the setting.
    const score = scorePrompt(MEDIUM).score;
    const tiers = (['quality', 'balanced', 'savings'] as const).map((setting) => tierFor(score, setting));
    expect(tiers).to.deep.equal((['quality', 'balanced', 'savings'] as const).map((setting) => (score < ROUTING_THRESHOLDS[setting] ? 'light' : 'strong')));
    expect(ROUTING_THRESHOLDS.quality).to.be.below(ROUTING_THRESHOLDS.balanced);
    expect(ROUTING_THRESHOLDS.balanced).to.be.below(ROUTING_THRESHOLDS.savings);
    expect(tierFor(0, 'off')).to.equal('strong');
    expect(scorePrompt(ROUTINE).score).to.be.below(ROUTING_THRESHOLDS.balanced);
  });

  it('tools requested and non-text parts push a request to the strong model', () => {
    expect(decideRoute({ messages: EASY, setting: 'savings', extras: { toolsRequested: true } }).tier).to.equal('strong');
    expect(decideRoute({ messages: EASY, setting: 'savings', extras: { nonTextParts: true } }).reason).to.equal('non_text');
  });

  it('a forced model wins over the score, and says so', () => {
    expect(decideRoute({ messages: HARD_CODE, setting: 'savings', forced: 'light' })).to.include({ tier: 'light', reason: 'forced', forced: true });
    expect(decideRoute({ messages: EASY, setting: 'savings', forced: 'strong' })).to.include({ tier: 'strong', reason: 'forced', forced: true });
  });

  it('reads only the head and tail of a huge message (the features stay bounded) and counts list items and questions', () => {
    const text = `1. first point\n2. second point\n3. third point\nWhat now? And then? And why?\n${'x'.repeat(500_000)}`;
    const features = extractFeatures(user(text));
    expect(features.lastChars).to.equal(text.length);
    expect(features.listItems).to.equal(3);
    expect(features.questions).to.equal(3);
  });

  it('is sticky: a conversation that needed the strong model stays there, an escalation is marked, and it expires', () => {
    let now = 1_000_000;
    const memory = new RoutingStickiness({ ttlMs: 60_000, maxEntries: 100 }, () => now);
    const first: ChatMessage[] = [{ role: 'user', content: 'Hello, what are your opening hours?' }];
    const key = conversationKey('agent-1', first);
    const conversation = { key, memory };
    expect(decideRoute({ messages: first, setting: 'balanced', conversation }).tier).to.equal('light');
    const harder: ChatMessage[] = [...first, { role: 'assistant', content: 'We open at 9.' }, HARD_ANALYSIS[0]!];
    expect(conversationKey('agent-1', harder), 'the same conversation by its first user message').to.equal(key);
    expect(decideRoute({ messages: harder, setting: 'balanced', conversation })).to.include({ tier: 'strong', reason: 'analysis', escalated: true });
    const easyAgain: ChatMessage[] = [...harder, { role: 'assistant', content: 'Fixed.' }, { role: 'user', content: 'thanks!' }];
    expect(decideRoute({ messages: easyAgain, setting: 'balanced', conversation })).to.include({ tier: 'strong', reason: 'sticky' });
    now += 59_000; // each strong answer renews the hold
    expect(decideRoute({ messages: easyAgain, setting: 'balanced', conversation }).reason).to.equal('sticky');
    now += 61_000;
    expect(decideRoute({ messages: easyAgain, setting: 'balanced', conversation }).tier, 'after the hold expired').to.equal('light');
    expect(conversationKey('agent-2', first), 'another agent is another conversation').to.not.equal(key);
    expect(conversationKey('agent-1', first, 'chat-42')).to.not.equal(key);
  });

  it('remembers at most maxEntries conversations, forgetting the least recently used first', () => {
    const memory = new RoutingStickiness({ ttlMs: 60_000, maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) memory.remember(key, 'strong');
    memory.remember('a', 'strong'); // a is now the most recent
    memory.remember('d', 'strong');
    expect(memory.size).to.equal(3);
    expect(memory.state('b').sticky, 'b was the least recently used').to.equal(false);
    expect(memory.state('a').sticky).to.equal(true);
    expect(memory.state('d').sticky).to.equal(true);
  });
});
