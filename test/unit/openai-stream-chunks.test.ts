// /v1 streams build a content delta's chunk once per stream and splice each delta's text in (#20): the bytes must be
// exactly what JSON.stringify of the whole chunk gives, whatever the text and the caller-chosen model name hold.
import { expect } from 'chai';
import { contentChunkWriter } from '../../server/http/openai-compatible-api';

const chunkOf = (model: string, content: string, usage: boolean) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_790_000_000, model, system_fingerprint: null, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }], ...(usage ? { usage: null } : {}) })}\n\n`;

describe('/v1 stream chunks: the envelope built once (contentChunkWriter)', () => {
  const texts = ['word ', '', 'quote " backslash \\ newline \n tab \t', 'héllo 日本 😀', '\u0000content\u0000', '\u2028\u2029', '</script>'];
  const models = ['gpt-4o-mini', 'agent "quoted"', '\u0000content\u0000', 'model with \u0000content\u0000 inside'];

  for (const usage of [false, true]) {
    it(`gives JSON.stringify's bytes for every text and model (usage: ${usage ? 'null field' : 'absent'})`, () => {
      for (const model of models) {
        const write = contentChunkWriter(chunkOf(model, '\u0000content\u0000', usage));
        for (const text of texts) {
          const written = write(text);
          expect(written, `${JSON.stringify(model)} / ${JSON.stringify(text)}`).to.equal(chunkOf(model, text, usage));
          expect(JSON.parse(written.slice(6)).choices[0].delta.content).to.equal(text);
        }
      }
    });
  }
});
