// A loopback TCP proxy that a test can cut and restore, to make a database "unreachable" for a while (works with any MongoDB).
import net from 'node:net';

export interface FaultProxy {
  uri: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamUri: string): Promise<FaultProxy> {
  const match = /^mongodb:\/\/(?:([^@/]*)@)?([^/:?,]+):(\d+)/.exec(upstreamUri);
  if (!match) throw new Error('the fault proxy needs a single-host mongodb:// URI');
  const [, credentials, upstreamHost, upstreamPort] = match as unknown as [string, string | undefined, string, string];
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(upstreamPort), upstreamHost);
        sockets.add(client);
        sockets.add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
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
      server.close(() => resolve());
    });
  return {
    uri: `mongodb://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}/${query.includes('directConnection') ? query : `${query}&directConnection=true`}`,
    cut: stopListening,
    restore: listen,
    close: stopListening,
  };
}
