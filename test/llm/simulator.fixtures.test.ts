// The simulator must answer in each provider's real wire format: same keys, same stream event
// sequence as the recorded fixtures in test/fixtures/providers/<provider>/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { ProviderId } from '../../server/llm/llm.types';
import type { SimulatorHandle } from '../../server/llm/simulator';
import { simulatorForTests } from '../support/simulator-for-tests';
import type { SimulatedErrorFault } from '../../server/llm/simulator';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'providers');
const API_KEY = 'sk-sandbox-fixtures';

type WireName = 'openai' | 'groq' | 'anthropic' | 'mistral';

interface WireCase {
  provider: ProviderId;
  /** Below the provider's base URL, as its SDK would call it. */
  chatPath: string;
  modelsPath: string;
  chatFixture: string;
  streamFixture: string;
  headers(apiKey: string): Record<string, string>;
  chatBody(stream: boolean): Record<string, unknown>;
  /** Error fixtures and how to provoke each: a scripted fault or a key from the sandbox key convention. */
  errors: Array<{ fixture: string; status: number; fault?: SimulatedErrorFault; apiKey?: string }>;
}

const bearer = (apiKey: string) => ({ authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' });
const messages = [{ role: 'user', content: 'Hello, who are you?' }];

const WIRES: Record<WireName, WireCase> = {
  openai: {
    provider: 'openai',
    chatPath: '/chat/completions',
    modelsPath: '/models',
    chatFixture: 'chat-completion.json',
    streamFixture: 'chat-completion.sse',
    headers: bearer,
    chatBody: (stream) => ({
      model: 'gpt-4o-mini',
      messages,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    }),
    errors: [
      { fixture: 'error-401.json', status: 401, apiKey: 'sk-invalid-fixture-1234' },
      { fixture: 'error-429-insufficient-quota.json', status: 429, apiKey: 'sk-noquota-fixture' },
      { fixture: 'error-429-rate-limit.json', status: 429, fault: { status: 429, retryAfterSeconds: 1 } },
      { fixture: 'error-500.json', status: 500, fault: { status: 500 } },
      { fixture: 'error-400-context-length.json', status: 400, fault: { status: 400, error: 'context_length' } },
    ],
  },
  groq: {
    provider: 'groq',
    chatPath: '/openai/v1/chat/completions',
    modelsPath: '/openai/v1/models',
    chatFixture: 'chat-completion.json',
    streamFixture: 'chat-completion.sse',
    headers: bearer,
    chatBody: (stream) => ({ model: 'llama-3.3-70b-versatile', messages, ...(stream ? { stream: true } : {}) }),
    errors: [{ fixture: 'error-401.json', status: 401, apiKey: 'gsk_invalid' }],
  },
  anthropic: {
    provider: 'anthropic',
    chatPath: '/v1/messages',
    modelsPath: '/v1/models',
    chatFixture: 'message.json',
    streamFixture: 'message.sse',
    headers: (apiKey) => ({ 'x-api-key': apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }),
    chatBody: (stream) => ({ model: 'claude-sonnet-4-20250514', max_tokens: 256, messages, ...(stream ? { stream: true } : {}) }),
    errors: [
      { fixture: 'error-401.json', status: 401, apiKey: 'sk-ant-invalid' },
      { fixture: 'error-402-billing.json', status: 402, apiKey: 'sk-ant-noquota' },
      { fixture: 'error-429.json', status: 429, fault: { status: 429, retryAfterSeconds: 1 } },
      { fixture: 'error-500.json', status: 500, fault: { status: 500 } },
      { fixture: 'error-529.json', status: 529, fault: { status: 529 } },
    ],
  },
  mistral: {
    provider: 'mistral',
    chatPath: '/v1/chat/completions',
    modelsPath: '/v1/models',
    chatFixture: 'chat-completion.json',
    streamFixture: 'chat-completion.sse',
    headers: bearer,
    chatBody: (stream) => ({ model: 'mistral-small-latest', messages, ...(stream ? { stream: true } : {}) }),
    errors: [
      { fixture: 'error-401.json', status: 401, apiKey: 'invalid-mistral-key' },
      { fixture: 'error-429.json', status: 429, fault: { status: 429, retryAfterSeconds: 1 } },
      { fixture: 'error-500.json', status: 500, fault: { status: 500 } },
    ],
  },
};

/** Every key path in a JSON value (`choices[].delta.content`), so two bodies compare by shape, not values. */
function keyPaths(value: unknown, prefix = ''): Set<string> {
  const paths = new Set<string>();
  const visit = (node: unknown, at: string) => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, `${at}[]`);
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        const childPath = at ? `${at}.${key}` : key;
        paths.add(childPath);
        visit(child, childPath);
      }
    }
  };
  visit(value, prefix);
  return paths;
}

interface SseEvent {
  event: string | undefined;
  data: string;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim())
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join('\n') };
    });
}

/** Anthropic names its events; OpenAI-style chunks are told apart by what they carry. */
function classifyEvent(event: SseEvent): string {
  if (event.event) return event.event;
  if (event.data === '[DONE]') return '[DONE]';
  const chunk = JSON.parse(event.data) as { choices: Array<{ delta: { role?: string }; finish_reason: string | null }> };
  const choice = chunk.choices[0];
  if (!choice) return 'usage';
  if (choice.finish_reason) return 'finish';
  if (choice.delta.role) return 'role';
  return 'content';
}

/** The event kinds in order, runs of the same kind collapsed; and each kind's key paths. */
function describeStream(text: string): { sequence: string[]; shapes: Map<string, string[]> } {
  const sequence: string[] = [];
  const shapes = new Map<string, Set<string>>();
  for (const event of parseSse(text)) {
    const kind = classifyEvent(event);
    if (sequence.at(-1) !== kind) sequence.push(kind);
    const paths = shapes.get(kind) ?? new Set<string>();
    if (event.data !== '[DONE]') for (const keyPath of keyPaths(JSON.parse(event.data))) paths.add(keyPath);
    shapes.set(kind, paths);
  }
  return { sequence, shapes: new Map([...shapes].map(([kind, paths]) => [kind, [...paths].sort()])) };
}

function readFixture(wire: WireName, file: string): string {
  return readFileSync(path.join(FIXTURES, wire, file), 'utf8');
}

const sorted = (paths: Set<string>) => [...paths].sort();

describe('provider simulator wire formats match the recorded fixtures', () => {
  const providerSimulator = simulatorForTests({ clearFaultsAfterEach: true });
  let simulator: SimulatorHandle;
  before(() => ({ simulator } = providerSimulator));

  for (const [wireName, wire] of Object.entries(WIRES) as Array<[WireName, WireCase]>) {
    describe(wireName, () => {
      const post = (stream: boolean, apiKey = API_KEY) =>
        fetch(`${simulator.baseUrls[wire.provider]}${wire.chatPath}`, {
          method: 'POST',
          headers: wire.headers(apiKey),
          body: JSON.stringify(wire.chatBody(stream)),
        });

      it('answers a chat request with the keys of the recorded reply', async () => {
        const response = await post(false);
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.match(/^application\/json/);
        const fixture = JSON.parse(readFixture(wireName, wire.chatFixture)) as unknown;
        expect(sorted(keyPaths(await response.json()))).to.deep.equal(sorted(keyPaths(fixture)));
      });

      it('streams the recorded event sequence, each event with the recorded keys', async () => {
        const response = await post(true);
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.match(/^text\/event-stream/);
        const simulated = describeStream(await response.text());
        const recorded = describeStream(readFixture(wireName, wire.streamFixture));
        expect(simulated.sequence).to.deep.equal(recorded.sequence);
        for (const [kind, paths] of recorded.shapes) expect(simulated.shapes.get(kind), kind).to.deep.equal(paths);
      });

      it('lists models with the recorded keys', async () => {
        const response = await fetch(`${simulator.baseUrls[wire.provider]}${wire.modelsPath}`, { headers: wire.headers(API_KEY) });
        expect(response.status).to.equal(200);
        const fixture = JSON.parse(readFixture(wireName, 'models.json')) as unknown;
        expect(sorted(keyPaths(await response.json()))).to.deep.equal(sorted(keyPaths(fixture)));
      });

      for (const errorCase of wire.errors) {
        it(`answers ${errorCase.status} with the body of ${errorCase.fixture}`, async () => {
          if (errorCase.fault) simulator.faults.script(wire.provider, [errorCase.fault]);
          const response = await post(false, errorCase.apiKey ?? API_KEY);
          expect(response.status).to.equal(errorCase.status);
          const fixture = JSON.parse(readFixture(wireName, errorCase.fixture)) as unknown;
          expect(sorted(keyPaths(await response.json()))).to.deep.equal(sorted(keyPaths(fixture)));
          if (errorCase.fault?.retryAfterSeconds !== undefined) {
            expect(response.headers.get('retry-after')).to.equal(String(errorCase.fault?.retryAfterSeconds));
          }
        });
      }

      it('answers a missing key with 401 and a request id header', async () => {
        const headers = wire.headers(API_KEY);
        delete headers.authorization;
        delete headers['x-api-key'];
        const response = await fetch(`${simulator.baseUrls[wire.provider]}${wire.chatPath}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(wire.chatBody(false)),
        });
        expect(response.status).to.equal(401);
        const requestId =
          response.headers.get('x-request-id') ?? response.headers.get('request-id') ?? response.headers.get('mistral-correlation-id');
        expect(requestId).to.be.a('string').and.not.be.empty;
      });
    });
  }
});
