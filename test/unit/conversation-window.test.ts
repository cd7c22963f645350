// The history policy of server-side conversations: newest first while they fit, no gaps, never starting with an answer.
import { expect } from 'chai';
import { trimToContextWindow, MAX_HISTORY_MESSAGES } from '../../agents/conversation-window';

describe('conversation history trimmed to the context window', () => {
  const turn = (index: number) => [
    { role: 'user' as const, content: `question ${index} ${'word '.repeat(50)}` },
    { role: 'assistant' as const, content: `answer ${index} ${'word '.repeat(50)}` },
  ];

  it('keeps everything that fits, with the new message last', () => {
    const history = [...turn(1), ...turn(2)];
    const result = trimToContextWindow(history, 'new question', { contextWindow: 128_000, systemPromptTokens: 100 });
    expect(result.dropped).to.equal(0);
    expect(result.messages.map((message) => message.content.split(' ').slice(0, 2).join(' '))).to.deep.equal(['question 1', 'answer 1', 'question 2', 'answer 2', 'new question']);
  });

  it('drops the oldest first when the window is small, and never starts with an assistant message', () => {
    const history = Array.from({ length: 10 }, (_, index) => turn(index)).flat();
    // Room for about six messages of ~55 tokens after the answer budget and the system prompt.
    const result = trimToContextWindow(history, 'new question', { contextWindow: 1_500, systemPromptTokens: 50, replyTokens: 1_000 });
    expect(result.messages[0]!.role).to.equal('user');
    expect(result.messages.at(-1)!.content).to.equal('new question');
    expect(result.messages.length).to.be.within(2, 8);
    expect(result.dropped).to.be.greaterThan(12);
    expect(result.messages.at(-2)!.content).to.match(/^answer 9/);
    expect(result.dropped).to.equal(history.length - (result.messages.length - 1));
  });

  it('sends at most MAX_HISTORY_MESSAGES older messages', () => {
    const history = Array.from({ length: 50 }, (_, index) => turn(index)).flat();
    const result = trimToContextWindow(history, 'q', { contextWindow: 1_000_000, systemPromptTokens: 10 });
    expect(result.messages.length - 1).to.be.at.most(MAX_HISTORY_MESSAGES);
  });

  it('with no room for history, sends only the new message', () => {
    const result = trimToContextWindow(turn(1), 'q', { contextWindow: 1_100, systemPromptTokens: 10, replyTokens: 1_024 });
    expect(result.messages).to.deep.equal([{ role: 'user', content: 'q' }]);
  });
});
