// A loopback TCP proxy that a test can cut and restore, or stall (connections stay open, nothing is forwarded), to
// make a database "unreachable" or "not answering" for a while (works with any MongoDB).
import net from 'node:net';

export interface FaultProxy {
  uri: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** Keeps every connection open but forwards nothing either way, like a paused server (new connections too). */
  stall(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamUri: string): Promise<FaultProxy> {
  const match = /^mongodb:\/\/(?:([^@/]*)@)?([^/:?,]+):(\d+)/.exec(upstreamUri);
  if (!match) throw new Error('the fault proxy needs a single-host mongodb:// URI');
  const [, credentials, upstreamHost, upstreamPort] = match as unknown as [string, string | undefined, string, string];
  const sockets = new Set<net.Socket>();
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let stalled = false;
  let server: net.Server;
  let port = 0;
  const halt = (pair: { client: net.Socket; upstream: net.Socket }) => {
    pair.client.unpipe(pair.upstream);
    pair.upstream.unpipe(pair.client);
    pair.client.pause();
    pair.upstream.pause();
  };
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(upstreamPort), upstreamHost);
        const pair = { client, upstream };
        sockets.add(client);
        sockets.add(upstream);
        pairs.add(pair);
        if (stalled) halt(pair);
        else client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
          pairs.delete(pair);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  const query = upstreamUri.includes('?') ? upstreamUri.slice(upstreamUri.indexOf('?')) : '?directConnection=true';
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      pairs.clear();
      server.close(() => resolve());
    });
  return {
    uri: `mongodb://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}/${query.includes('directConnection') ? query : `${query}&directConnection=true`}`,
    cut: stopListening,
    restore: listen,
    stall: () => {
      stalled = true;
      for (const pair of pairs) halt(pair);
    },
    close: stopListening,
  };
}
