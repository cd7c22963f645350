// Anthropic's streamed Messages answer read from the HTTP response the SDK returned (#20), as the OpenAI and Groq
// streams are (chat-sse-stream.ts): the SDK builds and sends the request and turns an error status into its own
// error; the body is read here, each network chunk turned into its StreamEvents at once (SSE, JSON, the message's
// state), with no generator step per delta (readable-events.ts). As the SDK's own Stream reader (core/streaming.js):
// `ping` and events without a name are skipped, an `error` event is the SDK's APIError, every other event's data is
// JSON; a call aborted mid-answer ends as a cut stream.
import { APIError } from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { ChatRequest, StreamEvent } from '../../llm.types';
import type { ChunkHandler } from '../../readable-events';
import { ServerSentEventParser } from '../../sse-events';
import { estimateUsage } from '../../token-estimator';
import { createStreamEndedEarlyError, ToolCallDeltas, withPartialOutput, type ProviderErrorContext } from '../provider-support';
import { convertAnthropicError, convertAnthropicUsage, mapAnthropicStopReason, type AnthropicUsageFields } from './anthropic.converters';

/** `message_delta` usage is cumulative: each value replaces the last, never adds to it. */
export function mergeCumulativeUsage(previous: AnthropicUsageFields | undefined, latest: Partial<AnthropicUsageFields>): AnthropicUsageFields {
  return {
    input_tokens: latest.input_tokens ?? previous?.input_tokens ?? null,
    output_tokens: latest.output_tokens ?? previous?.output_tokens ?? 0,
    cache_creation_input_tokens: latest.cache_creation_input_tokens ?? previous?.cache_creation_input_tokens ?? null,
    cache_read_input_tokens: latest.cache_read_input_tokens ?? previous?.cache_read_input_tokens ?? null,
  };
}

function parsedOrText(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

export class AnthropicStreamHandler implements ChunkHandler<StreamEvent> {
  private readonly parser = new ServerSentEventParser();
  private content = '';
  private model: string;
  private usage: AnthropicUsageFields | undefined;
  private stopReason: string | null | undefined;
  /** tool_use blocks become OpenAI-style tool-call deltas: the block's start gives id and name, input_json_delta the arguments. */
  private readonly toolCalls = new ToolCallDeltas();

  constructor(
    private readonly request: ChatRequest,
    private readonly context: ProviderErrorContext,
    private readonly headers: Headers,
    private readonly providerRequestId: string | undefined,
  ) {
    this.model = request.model;
  }

  chunk(piece: Buffer, out: StreamEvent[]): void {
    for (const sse of this.parser.feed(piece)) {
      if (sse.event === 'ping' || sse.event === null) continue;
      if (sse.event === 'error') {
        const body = parsedOrText(sse.data) as { error?: { type?: string } } | string;
        throw new APIError(undefined, body as never, undefined, this.headers, typeof body === 'object' ? (body.error?.type as never) : undefined);
      }
      if (!sse.data) continue;
      this.read(JSON.parse(sse.data) as RawMessageStreamEvent, out);
    }
  }

  private read(event: RawMessageStreamEvent, out: StreamEvent[]): void {
    switch (event.type) {
      case 'message_start':
        this.model = event.message.model || this.model;
        this.usage = { ...event.message.usage };
        break;
      case 'content_block_start':
        if (event.content_block.type === 'tool_use') {
          for (const call of this.toolCalls.read([{ index: event.index, id: event.content_block.id, name: event.content_block.name, arguments: '' }])) out.push(call);
        }
        break;
      case 'content_block_delta':
        if (event.delta.type === 'text_delta' && event.delta.text) {
          this.content += event.delta.text;
          out.push({ type: 'delta', content: event.delta.text });
        } else if (event.delta.type === 'input_json_delta' && event.delta.partial_json) {
          for (const call of this.toolCalls.read([{ index: event.index, arguments: event.delta.partial_json }])) out.push(call);
        }
        break;
      case 'message_delta':
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        this.usage = mergeCumulativeUsage(this.usage, event.usage);
        break;
      default:
        break;
    }
  }

  end(out: StreamEvent[]): void {
    // No stop_reason means a cut stream (as does an abort: the SDK ends its iteration quietly then).
    if (this.stopReason === undefined || this.context.signal.aborted) {
      throw createStreamEndedEarlyError(this.request, this.content, this.context, this.providerRequestId, this.toolCalls.text);
    }
    out.push({
      type: 'end',
      usage: this.usage ? convertAnthropicUsage(this.usage) : estimateUsage(this.request, this.content + this.toolCalls.text),
      finishReason: mapAnthropicStopReason(this.stopReason),
      model: this.model,
      providerRequestId: this.providerRequestId,
    });
  }

  failed(error: unknown, out: StreamEvent[]): void {
    if (this.context.signal.aborted) this.end(out);
    else throw withPartialOutput(convertAnthropicError(error, this.context), this.request, this.content, this.providerRequestId, this.toolCalls.text);
  }
}
