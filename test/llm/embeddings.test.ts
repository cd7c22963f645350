// Embeddings through each provider's own SDK against the simulator: the wire formats (OpenAI's float and base64
// encodings, Mistral's), deterministic vectors, paraphrases close and unrelated questions far.
import { expect } from 'chai';
import OpenAI from 'openai';
import { Mistral } from '@mistralai/mistralai';
import type { SimulatorHandle } from '../../server/llm/simulator';
import { simulatorForTests } from '../support/simulator-for-tests';
import { cosineSimilarity, embed } from '../../server/llm/embeddings/embeddings';

describe('embeddings through the provider SDKs (simulator)', () => {
  const providerSimulator = simulatorForTests({ clearFaultsAfterEach: false });
  let simulator: SimulatorHandle;
  before(() => ({ simulator } = providerSimulator));

  const options = () => ({ apiKey: 'sk-test-embeddings', baseUrl: '', signal: new AbortController().signal, timeoutMs: 5_000 });

  for (const provider of ['openai', 'mistral'] as const) {
    it(`${provider}: deterministic vectors, paraphrases close, unrelated far, usage reported`, async () => {
      const texts = ['How do I reset my password?', 'How can I reset my password, please?', 'What are your opening hours?'];
      const first = await embed(provider, texts, { ...options(), baseUrl: simulator.baseUrls[provider] });
      const again = await embed(provider, texts, { ...options(), baseUrl: simulator.baseUrls[provider] });
      expect(first.vectors).to.have.length(3);
      expect(first.vectors[0]).to.have.length(provider === 'openai' ? 256 : 1024);
      expect(again.vectors[0]).to.deep.equal(first.vectors[0]);
      expect(cosineSimilarity(first.vectors[0]!, first.vectors[1]!)).to.be.at.least(0.95);
      expect(cosineSimilarity(first.vectors[0]!, first.vectors[2]!)).to.be.below(0.5);
      expect(first.inputTokens).to.be.greaterThan(5);
      expect(simulator.lastRequest(provider)!.path).to.match(/\/embeddings$/);
    });
  }

  it('openai: the SDK default (base64) and an explicit float encoding give the same vector', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: simulator.baseUrls.openai, maxRetries: 0 });
    const base64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'shipping to Canada', dimensions: 64 });
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'shipping to Canada', dimensions: 64, encoding_format: 'float' });
    expect((simulator.lastRequest('openai')!.body as { encoding_format: string }).encoding_format).to.equal('float');
    expect(base64.data[0]!.embedding).to.have.length(64);
    base64.data[0]!.embedding.forEach((value, index) => expect(value).to.be.closeTo(floats.data[0]!.embedding[index]!, 1e-6));
    expect(base64.usage.prompt_tokens).to.be.greaterThan(0);
  });

  it('mistral: the SDK parses the answer (model, usage, data)', async () => {
    const client = new Mistral({ apiKey: 'test-key', serverURL: simulator.baseUrls.mistral });
    const response = await client.embeddings.create({ model: 'mistral-embed', inputs: ['one', 'two'] });
    expect(response.model).to.equal('mistral-embed');
    expect(response.data.map((item) => item.index)).to.deep.equal([0, 1]);
    expect(response.usage.promptTokens).to.be.greaterThan(0);
  });

  it('an invalid key is refused like a chat call', async () => {
    const failure = await embed('openai', ['x'], { ...options(), apiKey: 'sk-invalid-key', baseUrl: simulator.baseUrls.openai }).then(() => undefined, (error: unknown) => error);
    expect((failure as { status?: number }).status).to.equal(401);
  });
});
