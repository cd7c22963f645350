// The `fetch` handed to the provider SDKs: one keep-alive undici pool, and for the plain calls the SDKs make
// (URL + string/bytes body) undici's `request()` instead of WHATWG fetch, which costs about half the CPU per call
// (measured in docs/BENCHMARKS.md). Anything else (a Request object, a streamed or form body) goes through
// undici's fetch on the same pool. Redirects are not followed either way (a 3xx comes back as the response).
// A JSON answer comes back as a `BufferedResponse`: its bytes are read whole and only turned into a web stream if
// someone asks for `.body`.
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { Agent, fetch as undiciFetch, Response as UndiciResponse, type Dispatcher } from 'undici';

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const JSON_CONTENT_TYPE = /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** Decoders of a compressed JSON answer read whole (on the thread pool), by content-encoding. */
const WHOLE_DECODERS: Record<string, ((bytes: Buffer, callback: zlib.CompressCallback) => void) | undefined> = {
  gzip: zlib.gunzip,
  'x-gzip': zlib.gunzip,
  deflate: zlib.inflate,
  br: zlib.brotliDecompress,
};

function headerRecord(headers: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  const add = (name: string, value: unknown) => {
    if (value === undefined || value === null) return;
    const key = name.toLowerCase();
    record[key] = record[key] === undefined ? String(value) : `${record[key]}, ${String(value)}`;
  };
  if (!headers) return record;
  if (Array.isArray(headers)) {
    for (const pair of headers as Array<[string, unknown]>) add(pair[0], pair[1]);
  } else if (typeof (headers as Headers).forEach === 'function') {
    (headers as Headers).forEach((value, name) => add(name, value));
  } else {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) add(name, value);
  }
  return record;
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): [string, string][] {
  const list: [string, string][] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const item of value) list.push([name, item]);
    else if (value !== undefined) list.push([name, value]);
  }
  return list;
}

/**
 * The body through its decoder. `pipeline`, not `pipe`: a source that fails (the connection cut mid-body) fails the
 * decoded stream too — with `pipe` the decoder waited forever and the source's error had no listener, which took the
 * process down — and a reader that stops early (destroys the decoded stream) destroys the source.
 */
function decoded(body: Readable, encoding: string | undefined): Readable {
  let decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress;
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      decoder = zlib.createGunzip();
      break;
    case 'deflate':
      decoder = zlib.createInflate();
      break;
    case 'br':
      decoder = zlib.createBrotliDecompress();
      break;
    default:
      return body;
  }
  // The error reaches the reader through the decoder, which pipeline destroys with it.
  return pipeline(body, decoder, () => undefined);
}

/** undici's Response typed without its body members, which BufferedResponse redefines (the types call them properties). */
type ResponseWithoutBodyMembers = new (body: null, init: ResponseInit) => Omit<UndiciResponse, 'body' | 'bodyUsed' | 'json' | 'text' | 'arrayBuffer' | 'bytes' | 'blob' | 'formData' | 'clone'>;

/**
 * A Response over bytes already read. `json()`, `text()` and `arrayBuffer()` read the bytes directly; a web
 * ReadableStream (and the FinalizationRegistry entry undici's Response keeps for a body stream) is made only when
 * `.body` is asked for. Both cost CPU per call and keep every call's response alive until the next full GC
 * (measured: a fifth to a third less old-generation growth per call). Otherwise it is an undici Response: status, headers,
 * `bodyUsed`, "Body is unusable" on a second read, `clone()`.
 */
export class BufferedResponse extends (UndiciResponse as unknown as ResponseWithoutBodyMembers) {
  readonly #bytes: Buffer;
  readonly #init: ResponseInit;
  #read = false;
  #streamed: UndiciResponse | undefined;

  constructor(bytes: Buffer, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
    this.#init = init;
  }

  /**
   * The same response with its body as a stream, made once, the first time anything needs the stream. After a direct
   * read its stream is an empty one, already read (a read body's stream is disturbed, never null).
   */
  #stream(): UndiciResponse {
    if (!this.#streamed) {
      this.#streamed = new UndiciResponse(this.#read ? new Uint8Array(0) : this.#bytes, this.#init as never);
      if (this.#read) void this.#streamed.arrayBuffer();
    }
    return this.#streamed;
  }

  /** The bytes for a direct read; undefined when the stream has been handed out (reads then go through it). */
  #take(): Buffer | undefined {
    if (this.#read) throw new TypeError('Body is unusable: Body has already been read');
    if (this.#streamed) return undefined;
    this.#read = true;
    return this.#bytes;
  }

  get body() {
    return this.#stream().body;
  }

  get bodyUsed(): boolean {
    return this.#read || (this.#streamed?.bodyUsed ?? false);
  }

  async json(): Promise<any> {
    const bytes = this.#take();
    return bytes ? JSON.parse(bytes.toString('utf8')) : this.#streamed!.json();
  }

  async text(): Promise<string> {
    const bytes = this.#take();
    return bytes ? bytes.toString('utf8') : this.#streamed!.text();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    return bytes ? (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer) : this.#streamed!.arrayBuffer();
  }

  async bytes(): Promise<Uint8Array> {
    const bytes = this.#take();
    return bytes ? new Uint8Array(bytes) : this.#streamed!.bytes();
  }

  // After a direct read the stream is already disturbed, so undici refuses these the same way.
  blob() {
    return this.#stream().blob();
  }

  formData() {
    return this.#stream().formData();
  }

  clone(): BufferedResponse {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.#bytes, this.#init);
  }
}

/**
 * A streamed (non-JSON) answer: an undici Response whose body is a Node stream until someone asks for the web one.
 * `takeNodeBody` hands the Node stream itself to a reader that knows it (the OpenAI adapter's SSE reader, #20): no web
 * ReadableStream, no async-iterable bridge, no byte copies per chunk. Anyone else gets the usual web body.
 */
export class StreamedResponse extends (UndiciResponse as unknown as ResponseWithoutBodyMembers) {
  readonly #node: Readable;
  readonly #init: ResponseInit;
  #taken = false;
  #web: UndiciResponse | undefined;

  constructor(node: Readable, init: ResponseInit) {
    super(null, init);
    this.#node = node;
    this.#init = init;
  }

  #webResponse(): UndiciResponse {
    // undici's Response reads an async iterable lazily: SSE streams through as it arrives.
    this.#web ??= new UndiciResponse(this.#taken ? new Uint8Array(0) : (this.#node as unknown as AsyncIterable<Uint8Array>), this.#init as never);
    return this.#web;
  }

  /** The Node stream of the body, once, unless the web body was asked for first. */
  takeNodeBody(): Readable | undefined {
    if (this.#taken || this.#web) return undefined;
    this.#taken = true;
    return this.#node;
  }

  get body() {
    return this.#webResponse().body;
  }

  get bodyUsed(): boolean {
    return this.#taken || (this.#web?.bodyUsed ?? false);
  }

  json(): Promise<any> {
    return this.#webResponse().json();
  }

  text(): Promise<string> {
    return this.#webResponse().text();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#webResponse().arrayBuffer();
  }

  bytes(): Promise<Uint8Array> {
    return this.#webResponse().bytes();
  }

  blob() {
    return this.#webResponse().blob();
  }

  formData() {
    return this.#webResponse().formData();
  }

  clone() {
    return this.#webResponse().clone();
  }
}

/** Same shape as fetch's failures: an abort rejects with the signal's reason, anything else is TypeError('fetch failed'). */
function fetchFailure(error: unknown, signal: AbortSignal | null | undefined): unknown {
  if (signal?.aborted) return signal.reason ?? error;
  return new TypeError('fetch failed', { cause: error });
}

/**
 * One plain call on the pool through undici's `dispatch` with a handler of our own (undici's `request()` wraps the
 * same dispatch in an async resource, a body stream and its async iterator per call, all of which a JSON answer
 * read whole does not need). A JSON answer is gathered into a BufferedResponse; anything else (an event stream, an
 * encoded body) is handed on as a Node stream that follows backpressure, resolved as soon as its headers arrive.
 * An abort of `init.signal` aborts the request, or destroys the body stream with the signal's reason once the
 * answer has started, as `request()` did.
 */
function dispatchPlain(dispatcher: Agent, url: URL, init: RequestInit | undefined, body: string | Uint8Array | undefined): Promise<Response> {
  const signal = init?.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let headers: [string, string][] = [];
    let mode: 'none' | 'buffer' | 'stream' = 'none';
    let bufferEncoding: string | undefined;
    const chunks: Buffer[] = [];
    let stream: Readable | undefined;
    let settled = false;
    const onAbort = () => {
      if (controller) controller.abort(signal!.reason);
      else if (!settled) {
        settled = true;
        reject(signal!.reason);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    const fail = (error: unknown) => {
      done();
      if (!settled) {
        settled = true;
        reject(fetchFailure(error, signal));
      } else stream?.destroy((signal?.aborted ? signal.reason : error) as Error);
    };
    const answer = (response: Response) => {
      settled = true;
      resolve(response);
    };
    try {
      dispatcher.dispatch(
        { origin: url.origin, path: `${url.pathname}${url.search}`, method: (init?.method ?? 'GET') as Dispatcher.HttpMethod, headers: headerRecord(init?.headers), body },
        {
          onRequestStart(requestController) {
            controller = requestController;
            if (signal?.aborted) requestController.abort(signal.reason);
          },
          onResponseStart(requestController, statusCode, rawHeaders) {
            if (statusCode < 200) return;
            status = statusCode;
            headers = responseHeaders(rawHeaders as Record<string, string | string[] | undefined>);
            if (NULL_BODY_STATUSES.has(statusCode)) return;
            const contentEncoding = rawHeaders['content-encoding'];
            const encoding = Array.isArray(contentEncoding) ? contentEncoding[0] : contentEncoding;
            const identity = !encoding || encoding.trim().toLowerCase() === 'identity';
            // A JSON answer is read whole, compressed or not, so the SDK's request timeout covers its body too.
            if ((identity || WHOLE_DECODERS[encoding.trim().toLowerCase()]) && JSON_CONTENT_TYPE.test(String(rawHeaders['content-type'] ?? ''))) {
              mode = 'buffer';
              if (!identity) bufferEncoding = encoding!.trim().toLowerCase();
              return;
            }
            mode = 'stream';
            let ended = false;
            const source = new Readable({
              read: () => requestController.resume(),
              // A reader that gives up (cancels the body) ends the request too.
              destroy: (error, callback) => {
                if (!ended && !requestController.aborted) requestController.abort(error ?? new Error('The response body was cancelled.'));
                callback(error);
              },
            });
            source.once('end', () => (ended = true));
            stream = source;
            answer(streamedResponse(decoded(source, encoding), { status, headers }));
          },
          onResponseData(requestController, chunk) {
            if (mode === 'buffer') chunks.push(chunk);
            else if (mode === 'stream' && !stream!.push(chunk)) requestController.pause();
          },
          onResponseEnd() {
            done();
            if (mode === 'stream') stream!.push(null);
            else if (mode === 'buffer') {
              const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
              if (!bufferEncoding) answer(new BufferedResponse(bytes, { status, headers }) as unknown as Response);
              else
                WHOLE_DECODERS[bufferEncoding]!(bytes, (error, plain) => {
                  if (error) fail(new TypeError('The compressed response body could not be decoded.', { cause: error }));
                  else answer(new BufferedResponse(plain, { status, headers }) as unknown as Response);
                });
            }
            else answer(new UndiciResponse(null, { status, headers }) as unknown as Response);
          },
          onResponseError(_requestController, error) {
            fail(error);
          },
        },
      );
    } catch (error) {
      fail(error);
    }
  });
}

/** A streamed (non-JSON) answer over a Node stream (see StreamedResponse). */
function streamedResponse(stream: Readable, init: ResponseInit): Response {
  return new StreamedResponse(stream, init) as unknown as Response;
}

export interface KeepAliveFetch {
  fetch: typeof fetch;
  close(): Promise<void>;
}

/** The fetches made here: a JSON answer resolves only once it is whole (see dispatchPlain). */
const BUFFERING_FETCHES = new WeakSet<object>();

/**
 * Whether `candidate` is one of these fetches: an SDK's own request timeout (cleared when fetch resolves) then
 * covers a JSON answer's whole body, not only its headers (the router relies on it for plain calls, #20).
 */
export function readsJsonAnswersWhole(candidate: unknown): boolean {
  return typeof candidate === 'function' && BUFFERING_FETCHES.has(candidate);
}

/** `connections`: the most connections per origin (null: no limit; calls past the limit wait for a free connection). */
export function createKeepAliveFetch(options: { keepAliveTimeoutMs?: number; connections?: number | null } = {}): KeepAliveFetch {
  const dispatcher = new Agent({ keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000, connections: options.connections === undefined ? 256 : options.connections });
  const viaFetch = (input: unknown, init?: RequestInit) => undiciFetch(input as never, { ...(init ?? {}), dispatcher } as never) as unknown as Promise<Response>;

  const keepAliveFetch = async (input: unknown, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    const plainBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
    if (!(typeof input === 'string' || input instanceof URL) || !plainBody) return viaFetch(input, init);
    return dispatchPlain(dispatcher, typeof input === 'string' ? new URL(input) : input, init, body instanceof ArrayBuffer ? Buffer.from(body) : (body ?? undefined));
  };

  BUFFERING_FETCHES.add(keepAliveFetch);
  return { fetch: keepAliveFetch as unknown as typeof fetch, close: () => dispatcher.close() };
}
