// The provider simulator: a plain node:http server speaking each provider's real wire format, so the
// official SDKs talk to it unchanged. Used by the sandbox, the tests and the benchmarks.
//
// Sandbox key convention: any non-empty key is accepted, except keys containing `invalid` (→ the
// provider's 401) and keys containing `noquota` (→ the provider's quota error). No key → 401.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROVIDER_IDS, type ProviderId } from '../llm.types';
import type { SimulatedProviderRoute } from '../providers/provider-definition';
import { PROVIDERS } from '../providers/provider-registry';
import { createSimulatedReply } from './simulated-reply';
import { simulatedEmbeddingsResponse } from './simulated-embeddings';
import { hashSimulatorKey, SimulatorFaults, type SimulatedErrorFault, type SimulatorFault } from './simulator-faults';
import {
  JSON_HEADERS,
  type ProviderWire,
  type SimulatedErrorReason,
  type SimulatedResponse,
  type WireContext,
} from './simulator-wire';

export interface ProviderSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A fixed delay before every answer, for benchmarks. */
  latencyMs?: number;
}

export interface SimulatorRecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface SimulatorHandle {
  url: string;
  /** What to pass as ProviderCallOptions.baseUrl for each provider. */
  baseUrls: Record<ProviderId, string>;
  faults: SimulatorFaults;
  /** Requests received (all providers, one provider, or one provider and one key). */
  requestCount(provider?: ProviderId, scope?: { apiKey?: string }): number;
  /** Requests held in a scripted delay right now (they end early when the caller hangs up). */
  waitingRequests(): number;
  lastRequest(provider: ProviderId): SimulatorRecordedRequest | undefined;
  close(): Promise<void>;
}

/** Each provider's route and wire format, as its folder declares them (ProviderDefinition.simulator). */
interface ProviderRoute extends Omit<SimulatedProviderRoute, 'createWire'> {
  provider: ProviderId;
  wire: ProviderWire;
}

const ROUTES: readonly ProviderRoute[] = PROVIDER_IDS.map((provider) => {
  const { createWire, ...route } = PROVIDERS[provider].simulator;
  return { provider, ...route, wire: createWire() };
});
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_TRACKED_KEYS = 10_000;

function findRoute(path: string): ProviderRoute | undefined {
  return ROUTES.find((route) => path.startsWith(`${route.apiPrefix}/`));
}

function reasonForStatus(fault: SimulatedErrorFault): SimulatedErrorReason {
  if (fault.error) return fault.error;
  switch (fault.status) {
    case 401:
      return 'invalid_key';
    case 402:
      return 'quota';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 429:
      return 'rate_limit';
    case 503:
      return 'unavailable';
    case 529:
      return 'overloaded';
    default:
      return fault.status >= 500 ? 'server' : 'bad_request';
  }
}

function retryAfterHeaders(fault: SimulatedErrorFault): Record<string, string> {
  return {
    ...(fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {}),
    ...(fault.retryAfterMs !== undefined ? { 'retry-after-ms': String(fault.retryAfterMs) } : {}),
  };
}

/** The `omit_usage` fault: the same answer without its token usage. */
function withoutUsage(simulated: SimulatedResponse): SimulatedResponse {
  const strip = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const { usage: _usage, ...rest } = value as Record<string, unknown>;
    const groq = rest.x_groq as Record<string, unknown> | undefined;
    if (groq && typeof groq === 'object') {
      const { usage: _groqUsage, ...groqRest } = groq;
      rest.x_groq = groqRest;
    }
    return rest;
  };
  if (!simulated.events) return { ...simulated, body: strip(simulated.body) };
  const events = simulated.events.map((event) =>
    event.replace(/^data: (\{.*\})$/m, (_line, json: string) => `data: ${JSON.stringify(strip(JSON.parse(json)))}`),
  );
  return { ...simulated, events };
}

class BodyTooLargeError extends Error {}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError());
        request.destroy();
        return;
      }
      parts.push(part);
    });
    request.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startProviderSimulator(options: ProviderSimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const latencyMs = options.latencyMs ?? 0;
  const faults = new SimulatorFaults();
  const requestCounts = new Map<ProviderId, number>();
  const requestCountsByKey = new Map<string, number>();
  const lastRequests = new Map<ProviderId, SimulatorRecordedRequest>();
  const pendingWaits = new Set<() => void>();
  let closed = false;

  /** Waits, but gives up early when the client goes away or the simulator closes. */
  function wait(milliseconds: number, response: ServerResponse): Promise<void> {
    if (milliseconds <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        pendingWaits.delete(finish);
        response.off('close', finish);
        resolve();
      };
      const timer = setTimeout(finish, milliseconds);
      pendingWaits.add(finish);
      response.on('close', finish);
    });
  }

  function isGone(response: ServerResponse): boolean {
    return closed || response.destroyed || response.writableEnded || response.socket === null || response.socket.destroyed;
  }

  function record(provider: ProviderId, recorded: SimulatorRecordedRequest, apiKey: string | undefined): void {
    requestCounts.set(provider, (requestCounts.get(provider) ?? 0) + 1);
    if (apiKey) {
      if (requestCountsByKey.size >= MAX_TRACKED_KEYS) requestCountsByKey.clear();
      const key = `${provider}:${hashSimulatorKey(apiKey)}`;
      requestCountsByKey.set(key, (requestCountsByKey.get(key) ?? 0) + 1);
    }
    lastRequests.set(provider, recorded);
  }

  function writeChunk(response: ServerResponse, text: string): Promise<void> {
    return new Promise((resolve) => response.write(text, () => resolve()));
  }

  async function send(response: ServerResponse, simulated: SimulatedResponse, cutAfterChunks?: number, eventIntervalMs = 0): Promise<void> {
    if (isGone(response)) return;
    if (simulated.events) {
      response.writeHead(simulated.status, simulated.headers);
      const cutAt = cutAfterChunks === undefined ? undefined : (simulated.contentStartIndex ?? 0) + cutAfterChunks;
      for (const [index, event] of simulated.events.entries()) {
        if (isGone(response)) return;
        if (cutAt !== undefined && index >= cutAt) {
          response.destroy();
          return;
        }
        await writeChunk(response, event);
        // Let each event leave as its own network chunk, as a real stream would.
        if (eventIntervalMs > 0 && index < simulated.events.length - 1) await wait(eventIntervalMs, response);
        else await new Promise((resolve) => setImmediate(resolve));
      }
      response.end();
      return;
    }
    const text = JSON.stringify(simulated.body ?? {});
    response.writeHead(simulated.status, { ...simulated.headers, 'content-length': String(Buffer.byteLength(text)) });
    if (cutAfterChunks !== undefined) {
      await writeChunk(response, text.slice(0, Math.floor(text.length / 2)));
      response.destroy();
      return;
    }
    response.end(text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator.invalid');
    const route = findRoute(url.pathname);
    if (!route) {
      await send(response, {
        status: 404,
        headers: { ...JSON_HEADERS },
        body: { error: { message: `The provider simulator has no route ${url.pathname}`, type: 'not_found' } },
      });
      return;
    }
    const { wire, provider } = route;
    const apiKey = wire.readApiKey(request.headers);
    const context: WireContext = {
      provider,
      requestId: wire.createRequestId(),
      createdSeconds: Math.floor(Date.now() / 1000),
      models: route.models,
      apiKey,
      method: request.method ?? 'GET',
      path: url.pathname,
    };

    let body: unknown;
    let bodyIsValidJson = true;
    try {
      const text = await readBody(request);
      body = text ? JSON.parse(text) : undefined;
    } catch (error) {
      if (error instanceof BodyTooLargeError) return;
      bodyIsValidJson = false;
    }
    record(provider, { method: context.method, path: url.pathname, headers: request.headers, body }, apiKey);

    await wait(latencyMs, response);
    if (!apiKey) return send(response, wire.errorResponse('missing_key', context));
    if (apiKey.includes('invalid')) return send(response, wire.errorResponse('invalid_key', context));
    if (apiKey.includes('noquota')) return send(response, wire.errorResponse('quota', context));

    const fault: SimulatorFault = faults.nextFault(provider, apiKey);
    let cutAfterChunks: number | undefined;
    let eventIntervalMs = 0;
    if (fault !== 'ok') {
      if ('status' in fault) {
        const error = wire.errorResponse(reasonForStatus(fault), context, fault.status);
        return send(response, { ...error, headers: { ...error.headers, ...retryAfterHeaders(fault) } });
      }
      if (fault.kind === 'timeout') await wait(fault.delayMs, response);
      if (fault.kind === 'cut') cutAfterChunks = fault.afterChunks;
      if (fault.kind === 'slow_stream') eventIntervalMs = fault.eventIntervalMs;
    }
    const omitUsage = typeof fault === 'object' && 'kind' in fault && fault.kind === 'omit_usage';

    const path = url.pathname.slice(route.apiPrefix.length);
    if (context.method === 'GET' && path === wire.modelsPath) return send(response, wire.modelsResponse(context), cutAfterChunks);
    // Embeddings (OpenAI, Mistral), for the semantic response cache.
    const embeddings = context.method === 'POST' && path === '/embeddings' && bodyIsValidJson ? simulatedEmbeddingsResponse(provider, body, context) : undefined;
    if (embeddings) return send(response, embeddings);
    if (context.method !== 'POST' || path !== wire.chatPath) return send(response, wire.errorResponse('not_found', context));
    const chatRequest = bodyIsValidJson ? wire.parseChatRequest(body) : undefined;
    if (!chatRequest) return send(response, wire.errorResponse('bad_request', context));
    const reply = createSimulatedReply(chatRequest);
    const simulated = chatRequest.stream
      ? wire.streamResponse(chatRequest, reply, context)
      : wire.chatResponse(chatRequest, reply, context);
    return send(response, omitUsage ? withoutUsage(simulated) : simulated, cutAfterChunks, eventIntervalMs);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent && !isGone(response)) {
        response.writeHead(500, { ...JSON_HEADERS }).end(JSON.stringify({ error: { message: 'simulator failure' } }));
      } else {
        response.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const baseUrls = Object.fromEntries(ROUTES.map((route) => [route.provider, `${url}${route.baseUrlPath}`])) as Record<
    ProviderId,
    string
  >;

  return {
    url,
    baseUrls,
    faults,
    waitingRequests() {
      return pendingWaits.size;
    },
    requestCount(provider, scope) {
      if (!provider) return [...requestCounts.values()].reduce((total, count) => total + count, 0);
      if (scope?.apiKey !== undefined) return requestCountsByKey.get(`${provider}:${hashSimulatorKey(scope.apiKey)}`) ?? 0;
      return requestCounts.get(provider) ?? 0;
    },
    lastRequest: (provider) => lastRequests.get(provider),
    async close() {
      if (closed) return;
      closed = true;
      for (const finish of [...pendingWaits]) finish();
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closing;
    },
  };
}
