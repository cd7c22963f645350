// The journal's records (one per mutation), what a store writes them to, and the byte-level encoding of the
// most common record, a document's insert or new version (written and read without decoding the document).
import type { Document } from 'bson';
import type { IndexSpec } from './index-spec';

export interface JournalSink {
  append(record: Document): void;
  /** Appends `{ op, ns, doc }` with the document given as its BSON bytes (saves serializing it again). */
  appendDocument?(op: 'i' | 'u', ns: string, doc: Uint8Array): void;
}

/** Where a collection journals its mutations (the Store, which forwards them to its JournalSink unless replaying). */
export interface MutationJournal {
  record(record: JournalRecord): void;
  /** Journals an insert or a new version of a document, given as its stored BSON bytes. */
  recordDocument(op: 'i' | 'u', ns: string, doc: Uint8Array): void;
}

/** Journal record shapes (one per mutation). */
export type JournalRecord =
  | { op: 'cc'; ns: string; options: Document }
  | { op: 'dc'; ns: string }
  | { op: 'dd'; db: string }
  | { op: 'rc'; ns: string; to: string }
  | { op: 'ci'; ns: string; spec: IndexSpec }
  | { op: 'di'; ns: string; name: string }
  | { op: 'cm'; ns: string; options: Document }
  | { op: 'mi'; ns: string; spec: IndexSpec }
  | { op: 'i'; ns: string; doc: Document }
  | { op: 'u'; ns: string; doc: Document }
  | { op: 'd'; ns: string; id: unknown };

/**
 * The BSON bytes of the journal record `{ op, ns, doc }` with `doc` given as BSON bytes — the same bytes
 * `serialize({ op, ns, doc: decodeDocument(doc) })` gives, without decoding or re-encoding the document.
 */
export function encodeDocumentRecord(op: 'i' | 'u', ns: string, doc: Uint8Array): Buffer {
  const nsBytes = Buffer.byteLength(ns);
  // int32 size | 0x02 "op\0" int32 2 op "\0" | 0x02 "ns\0" int32 n+1 ns "\0" | 0x03 "doc\0" doc | 0x00
  const size = 4 + (1 + 3 + 4 + 2) + (1 + 3 + 4 + nsBytes + 1) + (1 + 4) + doc.byteLength + 1;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32LE(size, 0);
  at = out.writeUInt8(0x02, at);
  at += out.write('op\0', at, 'latin1');
  at = out.writeInt32LE(2, at);
  at += out.write(`${op}\0`, at, 'latin1');
  at = out.writeUInt8(0x02, at);
  at += out.write('ns\0', at, 'latin1');
  at = out.writeInt32LE(nsBytes + 1, at);
  at += out.write(ns, at, 'utf8');
  at = out.writeUInt8(0, at);
  at = out.writeUInt8(0x03, at);
  at += out.write('doc\0', at, 'latin1');
  out.set(doc, at);
  at += doc.byteLength;
  out.writeUInt8(0, at);
  return out;
}

/**
 * Reads a journal record of the form `{ op: 'i' | 'u', ns, doc }` (fields in that order, as written by
 * encodeDocumentRecord and by serializing such a record) without decoding `doc`; undefined for any other record.
 */
export function parseDocumentRecord(record: Buffer): { op: 'i' | 'u'; ns: string; doc: Buffer } | undefined {
  // 0x02 "op\0" int32 2 ("i"|"u") "\0"
  if (record.length < 32 || record[4] !== 0x02 || record[5] !== 0x6f || record[6] !== 0x70 || record[7] !== 0) return undefined;
  if (record.readInt32LE(8) !== 2 || record[13] !== 0) return undefined;
  const opCode = record[12];
  if (opCode !== 0x69 && opCode !== 0x75) return undefined;
  let at = 14;
  if (record[at] !== 0x02 || record[at + 1] !== 0x6e || record[at + 2] !== 0x73 || record[at + 3] !== 0) return undefined;
  const nsLength = record.readInt32LE(at + 4);
  at += 8;
  if (nsLength < 1 || at + nsLength > record.length || record[at + nsLength - 1] !== 0) return undefined;
  const ns = record.toString('utf8', at, at + nsLength - 1);
  at += nsLength;
  if (record[at] !== 0x03 || record[at + 1] !== 0x64 || record[at + 2] !== 0x6f || record[at + 3] !== 0x63 || record[at + 4] !== 0) return undefined;
  at += 5;
  if (at + 5 > record.length) return undefined;
  const docSize = record.readInt32LE(at);
  // The document must end exactly one byte (the record's terminator) before the record does.
  if (docSize < 5 || at + docSize + 1 !== record.length || record[at + docSize - 1] !== 0) return undefined;
  return { op: opCode === 0x69 ? 'i' : 'u', ns, doc: record.subarray(at, at + docSize) };
}
