// The simulator's embeddings endpoints (OpenAI's and Mistral's wire formats): a deterministic hashed bag of words, so
// the same text always gets the same vector and paraphrases sharing most of their content words are close.
// Words are lower-cased, stripped of a few suffixes (and a doubled last consonant) and of stop words; each word and each pair of neighbouring words
// adds ±1 to one of the vector's dimensions (chosen by its hash), then the vector is normalized to length 1.
import crypto from 'node:crypto';
import type { ProviderId } from '../llm.types';
import { countTokens } from '../token-estimator';
import { JSON_HEADERS, type SimulatedResponse, type WireContext } from './simulator-wire';

const STOP_WORDS = new Set(
  'a an the is are was were be been am do does did i me my we our you your it its of to in on at for and or but can could would should will shall may might please tell show what how which who whom this that these those there here with about from by as into so if just some any get'.split(' '),
);

const DEFAULT_DIMENSIONS: Partial<Record<ProviderId, number>> = { openai: 1536, mistral: 1024 };

function stem(word: string): string {
  for (const suffix of ['ing', 'ed', 'es', 's']) {
    if (word.length > suffix.length + 3 && word.endsWith(suffix)) {
      const base = word.slice(0, -suffix.length);
      // "resetting" → "resett" → "reset"
      return suffix !== 's' && /([b-df-hj-np-tv-z])\1$/.test(base) ? base.slice(0, -1) : base;
    }
  }
  return word;
}

function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => !STOP_WORDS.has(word)).map(stem);
}

function bucket(feature: string, dimensions: number): { index: number; sign: number } {
  const digest = crypto.createHash('sha256').update(feature).digest();
  return { index: digest.readUInt32LE(0) % dimensions, sign: digest[4]! & 1 ? 1 : -1 };
}

export function simulatedEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = contentWords(text);
  const add = (feature: string, weight: number) => {
    const { index, sign } = bucket(feature, dimensions);
    vector[index]! += sign * weight;
  };
  words.forEach((word, position) => {
    add(`w:${word}`, 1);
    if (position > 0) add(`b:${words[position - 1]}|${word}`, 0.5);
  });
  if (words.length === 0) add('w:<empty>', 1);
  const norm = Math.sqrt(vector.reduce((total, value) => total + value * value, 0));
  return vector.map((value) => value / norm);
}

function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/** The answer to POST <prefix>/embeddings, or undefined when this provider has no embeddings endpoint here. */
export function simulatedEmbeddingsResponse(provider: ProviderId, body: unknown, context: WireContext): SimulatedResponse | undefined {
  const defaultDimensions = DEFAULT_DIMENSIONS[provider];
  if (!defaultDimensions) return undefined;
  const request = (body ?? {}) as { model?: unknown; input?: unknown; dimensions?: unknown; output_dimension?: unknown; encoding_format?: unknown };
  const inputs = typeof request.input === 'string' ? [request.input] : Array.isArray(request.input) && request.input.every((item) => typeof item === 'string') ? (request.input as string[]) : undefined;
  if (typeof request.model !== 'string' || !inputs || inputs.length === 0) {
    return { status: 400, headers: { ...JSON_HEADERS }, body: { error: { message: 'model and input are required', type: 'invalid_request_error' }, object: 'error', message: 'model and input are required' } };
  }
  const requested = provider === 'openai' ? request.dimensions : request.output_dimension;
  const dimensions = typeof requested === 'number' && Number.isInteger(requested) && requested > 0 && requested <= 4096 ? requested : defaultDimensions;
  const base64 = provider === 'openai' && request.encoding_format === 'base64';
  const promptTokens = inputs.reduce((total, text) => total + countTokens(text), 0);
  const data = inputs.map((text, index) => {
    const vector = simulatedEmbedding(text, dimensions);
    return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : vector };
  });
  const usage = provider === 'openai' ? { prompt_tokens: promptTokens, total_tokens: promptTokens } : { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 };
  return {
    status: 200,
    headers: { ...JSON_HEADERS, 'x-request-id': context.requestId },
    body: { id: `embd-${context.requestId}`, object: 'list', data, model: request.model, usage },
  };
}
