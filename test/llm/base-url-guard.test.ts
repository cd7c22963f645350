import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { statusOf } from '../../server/http/error-response';
import {
  assertSafeBaseUrl,
  createGuardedFetch,
  resolveAndCheckHost,
  UnsafeBaseUrlError,
  type HostResolver,
} from '../../server/llm/base-url-guard';

function expectRefused(action: () => unknown): UnsafeBaseUrlError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected the URL to be refused').to.be.instanceOf(UnsafeBaseUrlError);
  const error = caught as UnsafeBaseUrlError;
  expect(error.code).to.equal('UNSAFE_BASE_URL');
  expect(statusOf(error)).to.equal(400);
  return error;
}

async function expectRejected(promise: Promise<unknown>): Promise<UnsafeBaseUrlError> {
  let caught: unknown;
  await promise.catch((error: unknown) => (caught = error));
  expect(caught, 'expected a refusal').to.be.instanceOf(UnsafeBaseUrlError);
  return caught as UnsafeBaseUrlError;
}

/** A resolver that answers from a fixed table, so tests control what a name resolves to, call by call. */
function tableResolver(table: Record<string, string[] | (() => string[])>): HostResolver {
  return async (hostname) => {
    const entry = table[hostname];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const addresses = typeof entry === 'function' ? entry() : entry;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

interface LocalServer {
  server: http.Server;
  port: number;
  requests: string[];
  connections: number;
}

async function startLocalServer(handler: http.RequestListener): Promise<LocalServer> {
  const state = { requests: [] as string[], connections: 0 } as LocalServer;
  const server = http.createServer((request, response) => {
    state.requests.push(request.url ?? '');
    handler(request, response);
  });
  server.on('connection', () => (state.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.server = server;
  state.port = (server.address() as AddressInfo).port;
  return state;
}

async function stopLocalServer(local: LocalServer): Promise<void> {
  local.server.closeAllConnections();
  await new Promise<void>((resolve) => local.server.close(() => resolve()));
}

describe('base-url-guard', () => {
  describe('assertSafeBaseUrl', () => {
    const refusedWithoutAllowPrivate: [string, string][] = [
      ['not a URL', 'not a url'],
      ['ftp', 'ftp://api.example.com/v1'],
      ['file', 'file:///etc/passwd'],
      ['plain http to a public host', 'http://api.example.com/v1'],
      ['credentials', 'https://user:secret@api.example.com/v1'],
      ['user name only', 'https://user@api.example.com/v1'],
      ['loopback', 'https://127.0.0.1/v1'],
      ['loopback elsewhere in 127/8', 'https://127.5.6.7/v1'],
      ['localhost', 'https://localhost/v1'],
      ['LOCALHOST with trailing dot', 'https://LOCALHOST./v1'],
      ['*.localhost', 'https://api.localhost/v1'],
      ['10/8', 'https://10.0.0.1/v1'],
      ['172.16/12 low', 'https://172.16.0.1/v1'],
      ['172.16/12 high', 'https://172.31.255.255/v1'],
      ['192.168/16', 'https://192.168.1.1/v1'],
      ['CGNAT 100.64/10', 'https://100.64.0.1/v1'],
      ['link-local', 'https://169.254.1.1/v1'],
      ['metadata address', 'https://169.254.169.254/latest/meta-data'],
      ['metadata name', 'https://metadata.google.internal/computeMetadata/v1'],
      ['*.internal', 'https://ollama.internal/v1'],
      ['0.0.0.0', 'https://0.0.0.0/v1'],
      ['0/8', 'https://0.1.2.3/v1'],
      ['bare 0', 'https://0/v1'],
      ['decimal integer', 'https://2130706433/v1'],
      ['hex short form', 'https://0x7f.1/v1'],
      ['hex integer', 'https://0x7f000001/v1'],
      ['octal', 'https://0177.0.0.1/v1'],
      ['two-part', 'https://127.1/v1'],
      ['unspecified IPv6', 'https://[::]/v1'],
      ['IPv6 loopback', 'https://[::1]/v1'],
      ['IPv6 loopback, long form', 'https://[0:0:0:0:0:0:0:1]/v1'],
      ['unique local fc00::/7', 'https://[fc00::1]/v1'],
      ['unique local fd..', 'https://[fd12:3456::1]/v1'],
      ['link-local fe80::/10', 'https://[fe80::1]/v1'],
      ['IPv4-mapped dotted', 'https://[::ffff:127.0.0.1]/v1'],
      ['IPv4-mapped hex', 'https://[::ffff:7f00:1]/v1'],
      ['IPv4-mapped metadata', 'https://[::ffff:169.254.169.254]/v1'],
      ['NAT64 well-known prefix', 'https://[64:ff9b::7f00:1]/v1'],
      ['NAT64 local-use prefix', 'https://[64:ff9b:1::a00:1]/v1'],
      ['6to4 of loopback', 'https://[2002:7f00:1::1]/v1'],
      ['AWS IMDS over IPv6', 'https://[fd00:ec2::254]/v1'],
      ['IPv4-compatible loopback', 'https://[::127.0.0.1]/v1'],
      ['IPv4-compatible metadata, dotted', 'https://[::169.254.169.254]/v1'],
      ['IPv4-compatible metadata, hex', 'https://[::a9fe:a9fe]/v1'],
      ['IPv4-compatible public address (deprecated form)', 'https://[::8.8.8.8]/v1'],
    ];
    for (const [label, url] of refusedWithoutAllowPrivate) {
      it(`refuses ${label}: ${url}`, () => {
        expectRefused(() => assertSafeBaseUrl(url, { allowPrivate: false }));
      });
    }

    for (const url of [
      'https://api.example.com/v1',
      'https://8.8.8.8/v1',
      'https://172.32.0.1/v1',
      'https://[2606:4700:4700::1111]/v1',
      'https://api.example.com:8443/openai/v1',
    ]) {
      it(`accepts ${url}`, () => {
        expect(assertSafeBaseUrl(url, { allowPrivate: false })).to.be.instanceOf(URL);
      });
    }

    it('names the problem in a human message without echoing credentials', () => {
      const error = expectRefused(() => assertSafeBaseUrl('https://user:hunter2@api.example.com', { allowPrivate: false }));
      expect(error.reason).to.equal('credentials');
      expect(error.message).not.to.include('hunter2');
      expect(expectRefused(() => assertSafeBaseUrl('http://api.example.com', { allowPrivate: false })).message).to.match(/https/);
    });

    describe('with allowPrivate', () => {
      for (const url of [
        'http://127.0.0.1:11434/v1',
        'http://localhost:11434/v1',
        'http://[::1]:8000/v1',
        'http://10.0.0.5:8000/v1',
        'https://192.168.1.10/v1',
        'http://ollama:11434/v1',
      ]) {
        it(`accepts ${url}`, () => {
          expect(assertSafeBaseUrl(url, { allowPrivate: true }).href).to.equal(new URL(url).href);
        });
      }
      for (const [label, url] of [
        ['metadata address', 'http://169.254.169.254/latest/meta-data'],
        ['metadata name', 'http://metadata.google.internal/'],
        ['metadata, IPv4-mapped', 'http://[::ffff:a9fe:a9fe]/'],
        ['metadata, IPv4-compatible', 'http://[::a9fe:a9fe]/'],
        ['plain http to a public address', 'http://8.8.8.8/v1'],
        ['credentials', 'http://user:pw@127.0.0.1:11434/v1'],
      ]) {
        it(`still refuses ${label}: ${url}`, () => {
          expectRefused(() => assertSafeBaseUrl(url!, { allowPrivate: true }));
        });
      }
    });
  });

  describe('resolveAndCheckHost', () => {
    const resolveHost = tableResolver({
      'public.test': ['93.184.216.34'],
      'private.test': ['10.1.2.3'],
      'mixed.test': ['93.184.216.34', '127.0.0.1'],
      'mapped.test': ['::ffff:127.0.0.1'],
      'metadata.test': ['169.254.169.254'],
    });

    it('accepts a name whose addresses are all public', async () => {
      await resolveAndCheckHost('public.test', { allowPrivate: false, resolveHost });
    });

    it('refuses a name if any one of its addresses is not public', async () => {
      for (const host of ['private.test', 'mixed.test', 'mapped.test', 'metadata.test']) {
        const error = await expectRejected(resolveAndCheckHost(host, { allowPrivate: false, resolveHost }));
        expect(error.reason).to.be.oneOf(['private_address', 'metadata_address']);
      }
    });

    it('refuses names that do not resolve', async () => {
      const error = await expectRejected(resolveAndCheckHost('nowhere.test', { allowPrivate: false, resolveHost }));
      expect(error.reason).to.equal('unresolvable');
    });

    it('refuses localhost through the system resolver, and allows it with allowPrivate', async () => {
      await expectRejected(resolveAndCheckHost('localhost', { allowPrivate: false }));
      await resolveAndCheckHost('localhost', { allowPrivate: true });
    });

    it('with allowPrivate, allows private answers but never metadata, and privateOnly refuses public answers', async () => {
      await resolveAndCheckHost('private.test', { allowPrivate: true, resolveHost });
      await expectRejected(resolveAndCheckHost('metadata.test', { allowPrivate: true, resolveHost }));
      await expectRejected(resolveAndCheckHost('public.test', { allowPrivate: true, privateOnly: true, resolveHost }));
    });
  });

  describe('createGuardedFetch', () => {
    let local: LocalServer;

    before(async () => {
      local = await startLocalServer((request, response) => {
        if (request.url === '/redirect') {
          response.writeHead(302, { location: `http://127.0.0.1:${local.port}/target` }).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, url: request.url }));
      });
    });

    after(async () => {
      await stopLocalServer(local);
    });

    beforeEach(() => {
      local.requests.length = 0;
      local.connections = 0;
    });

    it('refuses a local URL without allowPrivate; no request reaches the server', async () => {
      const guardedFetch = createGuardedFetch({ allowPrivate: false });
      try {
        await expectRejected(guardedFetch(`http://localhost:${local.port}/v1/models`));
        await expectRejected(guardedFetch(`https://127.0.0.1:${local.port}/v1/models`));
        await expectRejected(guardedFetch(`https://2130706433:${local.port}/v1/models`));
      } finally {
        await guardedFetch.close();
      }
      expect(local.requests).to.deep.equal([]);
      expect(local.connections).to.equal(0);
    });

    it('refuses a name that resolves to 127.0.0.1 at connect time; not even a TCP connection is made', async () => {
      const guardedFetch = createGuardedFetch({
        allowPrivate: false,
        resolveHost: tableResolver({ 'sneaky.test': ['127.0.0.1'] }),
      });
      try {
        const error = await expectRejected(guardedFetch(`https://sneaky.test:${local.port}/v1/models`));
        expect(error.reason).to.equal('private_address');
      } finally {
        await guardedFetch.close();
      }
      expect(local.connections).to.equal(0);
    });

    it('is not fooled by DNS rebinding: the answer checked is the answer connected to', async () => {
      let calls = 0;
      // First answer public (passes a pre-check), every later answer loopback.
      const resolveHost = tableResolver({ 'rebind.test': () => (calls++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']) });
      await resolveAndCheckHost('rebind.test', { allowPrivate: false, resolveHost });
      const guardedFetch = createGuardedFetch({ allowPrivate: false, resolveHost });
      try {
        await expectRejected(guardedFetch(`https://rebind.test:${local.port}/v1/models`));
      } finally {
        await guardedFetch.close();
      }
      expect(local.connections).to.equal(0);
    });

    it('with allowPrivate, reaches a local server over http', async () => {
      const guardedFetch = createGuardedFetch({ allowPrivate: true });
      try {
        const response = await guardedFetch(`http://127.0.0.1:${local.port}/v1/models`, { headers: { accept: 'application/json' } });
        expect(response.status).to.equal(200);
        expect(await response.json()).to.deep.equal({ ok: true, url: '/v1/models' });
      } finally {
        await guardedFetch.close();
      }
    });

    it('with allowPrivate, connects a name to the private address it resolved to', async () => {
      const guardedFetch = createGuardedFetch({ allowPrivate: true, resolveHost: tableResolver({ 'ollama.test': ['127.0.0.1'] }) });
      try {
        const first = await guardedFetch(`http://ollama.test:${local.port}/v1/models`);
        expect(first.status).to.equal(200);
        await first.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 50));
        const second = await guardedFetch(`http://ollama.test:${local.port}/v1/chat`);
        expect(await second.json()).to.deep.equal({ ok: true, url: '/v1/chat' });
      } finally {
        await guardedFetch.close();
      }
      expect(local.connections, 'keep-alive reuses the connection').to.equal(1);
    });

    it('with allowPrivate, plain http to a name that resolves to a public address is refused', async () => {
      const guardedFetch = createGuardedFetch({ allowPrivate: true, resolveHost: tableResolver({ 'public.test': ['93.184.216.34'] }) });
      try {
        await expectRejected(guardedFetch('http://public.test/v1/models'));
      } finally {
        await guardedFetch.close();
      }
    });

    it('does not follow redirects: the 3xx comes back as the response', async () => {
      const guardedFetch = createGuardedFetch({ allowPrivate: true });
      try {
        const response = await guardedFetch(`http://127.0.0.1:${local.port}/redirect`, { redirect: 'follow' });
        expect(response.status).to.equal(302);
        expect(response.ok).to.equal(false);
        await response.arrayBuffer();
      } finally {
        await guardedFetch.close();
      }
      expect(local.requests).to.deep.equal(['/redirect']);
    });
  });
});
