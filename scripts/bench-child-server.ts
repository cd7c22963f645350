// The start and end of the benchmark's own servers (fake provider, floors): listen on loopback, print one line
// `{"port":…}` for the benchmark to read, and exit when the benchmark (the parent) goes away or asks.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function serveForBenchmark(server: Server, port: number): void {
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500).unref();
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
}
