// MongoDB wire protocol framing: parses OP_QUERY / OP_MSG requests and builds OP_REPLY / OP_MSG replies.
import { deserialize, serialize, Long, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const OP_COMPRESSED = 2012;

const MSG_CHECKSUM_PRESENT = 1 << 0;
const MSG_MORE_TO_COME = 1 << 1;

/** 48 MB, the limit advertised in the handshake as maxMessageSizeBytes. */
export const MAX_MESSAGE_SIZE = 48_000_000;
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

/**
 * Deserialization options used for every incoming document. Int32 and Double become JS numbers (so mingo
 * compares and `$inc`s them as numbers); Int64 stays a `Long` object so it is written back as Int64;
 * Decimal128, ObjectId, Binary, Timestamp etc. stay their bson classes.
 */
export const DESERIALIZE_OPTIONS = { promoteLongs: false, promoteValues: true, promoteBuffers: false } as const;

export interface ParsedRequest {
  requestId: number;
  opCode: number;
  /** The command document (kind-1 document sequences merged in). */
  command: Document;
  /** OP_MSG moreToCome: the client expects no reply. */
  moreToCome: boolean;
  /** For OP_QUERY: the full collection name (e.g. `admin.$cmd`). */
  fullCollectionName?: string;
}

export class ProtocolError extends Error {}

const requestSizes = new WeakMap<Document, number>();

/** The byte length of the message a parsed command arrived in (undefined for commands built in-process). */
export function requestSizeOf(command: Document): number | undefined {
  return requestSizes.get(command);
}

/** True when no document of the command can exceed `MAX_BSON_OBJECT_SIZE` (its whole message is smaller). */
export function fitsInBsonLimit(command: Document): boolean {
  const size = requestSizes.get(command);
  return size !== undefined && size <= MAX_BSON_OBJECT_SIZE;
}

/** Reads one cstring starting at `offset`; returns the string and the offset after its NUL. */
function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new ProtocolError('unterminated cstring');
  return [buf.toString('utf8', offset, end), end + 1];
}

function readDocument(buf: Buffer, offset: number): [Document, number] {
  if (offset + 4 > buf.length) throw new ProtocolError('truncated document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length) throw new ProtocolError('invalid document size');
  const doc = deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
  return [doc, offset + size];
}

/** Parses one complete message (`message` includes the 16-byte header). */
export function parseMessage(message: Buffer): ParsedRequest {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_QUERY) {
    let offset = 16;
    offset += 4; // flags
    const [fullCollectionName, afterName] = readCString(message, offset);
    offset = afterName + 8; // numberToSkip, numberToReturn
    const [command] = readDocument(message, offset);
    requestSizes.set(command, message.length);
    return { requestId, opCode, command, moreToCome: false, fullCollectionName };
  }
  if (opCode === OP_MSG) {
    const flags = message.readUInt32LE(16);
    let end = message.length;
    if (flags & MSG_CHECKSUM_PRESENT) end -= 4;
    let offset = 20;
    let command: Document | undefined;
    const sequences: Array<[string, Document[]]> = [];
    while (offset < end) {
      const kind = message.readUInt8(offset);
      offset += 1;
      if (kind === 0) {
        const [doc, next] = readDocument(message, offset);
        command = doc;
        offset = next;
      } else if (kind === 1) {
        const size = message.readInt32LE(offset);
        const sectionEnd = offset + size;
        if (sectionEnd > end) throw new ProtocolError('invalid document sequence size');
        const [identifier, afterId] = readCString(message, offset + 4);
        let pos = afterId;
        const docs: Document[] = [];
        while (pos < sectionEnd) {
          const [doc, next] = readDocument(message, pos);
          docs.push(doc);
          pos = next;
        }
        sequences.push([identifier, docs]);
        offset = sectionEnd;
      } else {
        throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!command) throw new ProtocolError('OP_MSG without a body section');
    for (const [identifier, docs] of sequences) {
      const existing = command[identifier];
      command[identifier] = Array.isArray(existing) ? existing.concat(docs) : docs;
    }
    requestSizes.set(command, message.length);
    return { requestId, opCode, command, moreToCome: (flags & MSG_MORE_TO_COME) !== 0 };
  }
  throw new ProtocolError(`unsupported opCode ${opCode}`);
}

let nextResponseId = 1;

function header(totalLength: number, responseTo: number, opCode: number): Buffer {
  const buf = Buffer.allocUnsafe(16);
  buf.writeInt32LE(totalLength, 0);
  buf.writeInt32LE(nextResponseId++ & 0x7fffffff, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
  return buf;
}

/** Builds an OP_REPLY carrying one document (used only for the legacy OP_QUERY handshake). */
export function buildOpReply(responseTo: number, doc: Document): Buffer {
  const body = toBuffer(serialize(doc));
  const fixed = Buffer.alloc(20);
  fixed.writeInt32LE(0, 0); // responseFlags
  const cursorId = Long.ZERO;
  fixed.writeInt32LE(cursorId.low, 4);
  fixed.writeInt32LE(cursorId.high, 8);
  fixed.writeInt32LE(0, 12); // startingFrom
  fixed.writeInt32LE(1, 16); // numberReturned
  return Buffer.concat([header(16 + 20 + body.length, responseTo, OP_REPLY), fixed, body]);
}

/** Builds an OP_MSG with a single kind-0 section. */
export function buildOpMsg(responseTo: number, doc: Document): Buffer {
  const body = toBuffer(serialize(doc));
  const flagsAndKind = Buffer.alloc(5);
  flagsAndKind.writeUInt32LE(0, 0);
  flagsAndKind.writeUInt8(0, 4);
  return Buffer.concat([header(16 + 5 + body.length, responseTo, OP_MSG), flagsAndKind, body]);
}

/** Splits a byte stream into complete messages. */
export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    while (this.buffered >= 4) {
      let head = this.chunks[0]!;
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const size = head.readInt32LE(0);
      if (size < 16 || size > MAX_MESSAGE_SIZE) throw new ProtocolError(`invalid message length ${size}`);
      if (this.buffered < size) break;
      if (head.length < size) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      out.push(head.subarray(0, size));
      const rest = head.subarray(size);
      this.chunks.shift();
      if (rest.length > 0) this.chunks.unshift(rest);
      this.buffered -= size;
    }
    return out;
  }
}

/** The same bytes as a Buffer, without copying them. */
export function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
