// The TCP server: frames messages, dispatches commands, flushes the journal before each reply.
import net from 'node:net';
import type { Document } from 'bson';
import { CommandHandlers, type Logger } from './command-handlers';
import { Store } from './collection-store';
import { CursorManager } from './cursor-manager';
import { Journal } from './journal';
import { startTtlMonitor } from './ttl-monitor';
import { MessageReader, OP_MSG, OP_QUERY, buildOpMsg, buildOpReply, parseMessage } from './wire-protocol';

export interface WireStoreOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Journal file; undefined keeps everything in memory. */
  journalPath?: string;
  logger?: Logger;
}

export interface WireStoreHandle {
  /** `mongodb://<host>:<port>/?directConnection=true` */
  uri: string;
  port: number;
  /** Flushes the journal and closes every socket. */
  close(): Promise<void>;
}

function liveDataBytes(store: Store): number {
  return store.liveBytes;
}

export async function startWireStore(options: WireStoreOptions = {}): Promise<WireStoreHandle> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger;
  const store = new Store();
  let journal: Journal | undefined;
  if (options.journalPath) {
    const opened = Journal.open(options.journalPath, (record, encodedDoc) => store.replay(record, encodedDoc), logger);
    store.finishReplay();
    journal = opened.journal;
    store.setJournal(journal);
    if (journal.shouldCompact(liveDataBytes(store))) journal.compact(store.snapshot());
    logger?.info({ journal: options.journalPath, records: opened.replay.records, documents: store.documentCount }, 'wire-store: journal replayed');
  }
  // Runtime compaction: when the journal passes a threshold, compare it with the live data size.
  let nextCompactionCheck = Math.max(64 * 1024 * 1024, 4 * (journal?.size ?? 0));
  const maybeCompact = (): void => {
    if (!journal || journal.size < nextCompactionCheck) return;
    const live = liveDataBytes(store);
    if (journal.shouldCompact(live)) journal.compact(store.snapshot());
    nextCompactionCheck = Math.max(64 * 1024 * 1024, 4 * journal.size, 4 * live);
  };
  const cursors = new CursorManager();
  const handlers = new CommandHandlers(store, cursors, logger);
  const ttl = startTtlMonitor(store, () => journal?.flush(), logger);
  const sockets = new Set<net.Socket>();
  let nextConnectionId = 1;
  let closing = false;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const conn = { id: nextConnectionId++, remote: `${socket.remoteAddress ?? host}:${socket.remotePort ?? 0}` };
    const reader = new MessageReader();
    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      let messages: Buffer[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        logger?.warn({ err, connectionId: conn.id }, 'wire-store: bad message framing; closing connection');
        socket.destroy();
        return;
      }
      const replies: Buffer[] = [];
      for (const message of messages) {
        let request;
        try {
          request = parseMessage(message);
        } catch (err) {
          logger?.warn({ err, connectionId: conn.id }, 'wire-store: unparseable message; closing connection');
          socket.destroy();
          return;
        }
        let db = typeof request.command.$db === 'string' ? request.command.$db : 'admin';
        if (request.opCode === OP_QUERY && request.fullCollectionName) {
          db = request.fullCollectionName.split('.')[0] ?? 'admin';
        }
        const reply: Document = handlers.handle(db, request.command, conn);
        if (journal) {
          try {
            journal.flush();
            maybeCompact();
          } catch (err) {
            logger?.error({ err }, 'wire-store: journal write failed; closing connection');
            socket.destroy();
            return;
          }
        }
        if (request.moreToCome) continue;
        replies.push(request.opCode === OP_MSG ? buildOpMsg(request.requestId, reply) : buildOpReply(request.requestId, reply));
      }
      if (replies.length === 1) socket.write(replies[0]!);
      else if (replies.length > 1) socket.write(Buffer.concat(replies));
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    ttl.stop();
    cursors.close();
    journal?.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const uriHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  logger?.info({ port, journal: options.journalPath ?? null }, 'wire-store: listening (built-in MongoDB-compatible store, development/tests only)');

  let closed: Promise<void> | undefined;
  return {
    uri: `mongodb://${uriHost}:${port}/?directConnection=true`,
    port,
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        ttl.stop();
        cursors.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        if (journal) {
          try {
            if (journal.shouldCompact(liveDataBytes(store))) journal.compact(store.snapshot());
            journal.close();
          } catch (err) {
            logger?.error({ err }, 'wire-store: closing the journal failed');
          }
        }
      });
      return closed;
    },
  };
}
