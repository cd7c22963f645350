// User passwords: libsodium crypto_pwhash_str (Argon2id, interactive limits), computed in a worker thread.
// Argon2id takes ~100 ms of CPU and 64 MiB: on the main thread it would stall every other request for that long,
// and the WebAssembly memory it grows is never given back. The worker runs one hash at a time and exits when idle.
import { Worker } from 'node:worker_threads';

/** Longer inputs are refused so a megabyte "password" cannot be used to burn CPU. */
export const MAXIMUM_PASSWORD_LENGTH = 1024;

/** The worker exits after this long without work, returning its memory. */
const IDLE_EXIT_MS = 3_000;

export class PasswordHashingError extends Error {
  readonly code = 'PASSWORD_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'PasswordHashingError';
  }
}

type Operation = 'hash' | 'verify' | 'needsRehash';

// Plain JavaScript, so it runs the same from the TypeScript sources (tests) and from dist/.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const sodium = require(${JSON.stringify(require.resolve('libsodium-wrappers-sumo'))});
parentPort.on('message', async ({ id, operation, password, hash }) => {
  try {
    await sodium.ready;
    const ops = sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE;
    const mem = sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE;
    let result;
    if (operation === 'hash') result = sodium.crypto_pwhash_str(password, ops, mem);
    else if (operation === 'verify') {
      try { result = sodium.crypto_pwhash_str_verify(hash, password); } catch { result = false; }
    } else {
      try { result = sodium.crypto_pwhash_str_needs_rehash(hash, ops, mem); } catch { result = true; }
    }
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: 'password hashing failed' });
  }
});
`;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One worker thread and the requests sent to it: a worker that exits fails only its own requests. */
interface RunningWorker {
  thread: Worker;
  pending: Map<number, Pending>;
}

class PasswordHasherWorker {
  private worker: RunningWorker | undefined;
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  run(operation: Operation, input: { password?: string; hash?: string }): Promise<unknown> {
    const worker = this.ensureWorker();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      worker.pending.set(id, { resolve, reject });
      worker.thread.ref();
      worker.thread.postMessage({ id, operation, ...input });
    });
  }

  private ensureWorker(): RunningWorker {
    if (this.worker) return this.worker;
    const worker: RunningWorker = { thread: new Worker(WORKER_SOURCE, { eval: true }), pending: new Map() };
    worker.thread.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
      const entry = worker.pending.get(id);
      worker.pending.delete(id);
      if (error) entry?.reject(new Error(error));
      else entry?.resolve(result);
      if (worker.pending.size === 0) this.becomeIdle(worker);
    });
    // An idle worker told to exit may finish exiting after the next request started a new one: that request is
    // the new worker's, and this worker's exit must not fail it (it did: a register 500 one run in several).
    const failAll = (error: Error) => {
      for (const entry of worker.pending.values()) entry.reject(error);
      worker.pending.clear();
      if (this.worker === worker) this.worker = undefined;
    };
    worker.thread.on('error', failAll);
    worker.thread.on('exit', () => failAll(new Error('password hashing worker exited')));
    this.worker = worker;
    return worker;
  }

  private becomeIdle(worker: RunningWorker): void {
    // An idle worker must not keep the process alive, and goes away after a while.
    worker.thread.unref();
    this.idleTimer = setTimeout(() => {
      if (this.worker === worker && worker.pending.size === 0) {
        this.worker = undefined;
        void worker.thread.terminate();
      }
    }, IDLE_EXIT_MS);
    this.idleTimer.unref();
  }
}

const hasher = new PasswordHasherWorker();

function isAcceptablePassword(password: unknown): password is string {
  return typeof password === 'string' && password.length > 0 && password.length <= MAXIMUM_PASSWORD_LENGTH;
}

/** Returns an encoded `$argon2id$...` string that carries its own salt and parameters. */
export async function hashPassword(password: string): Promise<string> {
  if (!isAcceptablePassword(password)) {
    throw new PasswordHashingError(`A password must be 1 to ${MAXIMUM_PASSWORD_LENGTH} characters`);
  }
  return (await hasher.run('hash', { password })) as string;
}

/** False for a wrong password and for a hash that is not a libsodium pwhash string; never throws for bad input. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (typeof hash !== 'string' || !hash.startsWith('$argon2')) return false;
  if (!isAcceptablePassword(password)) return false;
  return (await hasher.run('verify', { hash, password })) === true;
}

/** True when a stored hash was made with weaker parameters than today's, so it can be upgraded at the next login. */
export async function passwordNeedsRehash(hash: string): Promise<boolean> {
  if (typeof hash !== 'string') return true;
  return (await hasher.run('needsRehash', { hash })) === true;
}
