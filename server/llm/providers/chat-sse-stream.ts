// A chat-completions stream (OpenAI's wire: OpenAI-compatible providers, Groq) read from the HTTP response the
// provider's SDK returned: the SDK builds and sends the request and turns an error status into its own error; the
// answer's body is read here, each network chunk turned into its StreamEvents at once (SSE, JSON, ChatChunkState),
// with no generator step per delta (#20, readable-events.ts). As the SDKs' own Stream readers: `[DONE]` ends the
// data, `thread.*` events are skipped, a payload with `error` (or an `error` event) is the SDK's error, and a call
// aborted mid-answer ends as a cut stream.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { LlmCallError } from '../llm-call.error';
import type { ChatRequest, StreamEvent } from '../llm.types';
import { StreamedResponse } from '../keep-alive-fetch';
import type { ChunkHandler } from '../readable-events';
import { ServerSentEventParser } from '../sse-events';
import { ChatChunkState, type ChunkReading, type ProviderErrorContext } from './provider-support';

/** What one provider's stream reads differently: its chunk's fields, its SDK's error, its error converter. */
export interface ChatSseDialect<Chunk> {
  read(chunk: Chunk): ChunkReading;
  /** The SDK's error for an error reported inside the stream. */
  streamError(error: object | undefined, message: string | undefined, headers: Headers | undefined): Error;
  convertError(error: unknown, context: ProviderErrorContext): LlmCallError;
}

export class ChatSseChunkHandler<Chunk> implements ChunkHandler<StreamEvent> {
  private readonly parser = new ServerSentEventParser();
  private readonly state: ChatChunkState;
  private done = false;

  constructor(
    private readonly dialect: ChatSseDialect<Chunk>,
    request: ChatRequest,
    private readonly context: ProviderErrorContext,
    private readonly headers: Headers,
    providerRequestId: string | undefined,
  ) {
    this.state = new ChatChunkState(request, context, providerRequestId);
  }

  chunk(piece: Buffer, out: StreamEvent[]): void {
    if (this.done) return;
    for (const event of this.parser.feed(piece)) {
      if (event.data.startsWith('[DONE]')) {
        // The rest of the body (normally nothing) is read and ignored; the end event comes with the body's end.
        this.done = true;
        return;
      }
      if (event.event !== null && event.event.startsWith('thread.')) continue;
      const data = JSON.parse(event.data) as Chunk & { error?: object; message?: string };
      if (event.event === 'error') throw this.dialect.streamError(data.error, data.message, undefined);
      if (data && data.error) throw this.dialect.streamError(data.error, undefined, this.headers);
      this.state.read(this.dialect.read(data), out);
    }
  }

  end(out: StreamEvent[]): void {
    out.push(this.state.end());
  }

  failed(error: unknown, out: StreamEvent[]): void {
    // Aborted (the caller's signal or our attempt timeout): the stream was cut, whatever the body's error says.
    if (this.context.signal.aborted) this.end(out);
    else throw this.state.failure(this.dialect.convertError(error, this.context));
  }
}

/** The body as a Node stream: from the keep-alive fetch directly (no web stream, no copies), else bridged. */
export function nodeBodyOf(response: Response, noBody: () => Error): Readable {
  const node = response instanceof StreamedResponse ? response.takeNodeBody() : undefined;
  if (node) return node;
  if (!response.body) throw noBody();
  return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
}
