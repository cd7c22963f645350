// How a collection holds its documents: as their BSON bytes in a Map keyed by the canonical string of `_id`,
// decoded on every read.
import { deserialize, serialize, type Document } from 'bson';
import { DESERIALIZE_OPTIONS } from './wire-protocol';

/** The BSON bytes of a document, as stored (the same bytes a reply would carry). */
export function encodeDocument(doc: Document): Uint8Array {
  return serialize(doc);
}

/** A fresh, independent document decoded from stored bytes (the wire's own deserialize options). */
export function decodeDocument(bytes: Uint8Array): Document {
  return deserialize(bytes, DESERIALIZE_OPTIONS);
}

/** Flattens a concatenated (cons) string in place, so a long-lived Map key costs one flat string. */
export function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/**
 * The documents of one collection: `_id` key → the document's BSON bytes, held as a one-byte (latin1)
 * string. That costs the BSON size plus a 16-byte header (a JS object graph of a small document costs
 * ~10× more), lives in V8's heap (so the GC compacts it; no per-document ArrayBuffer), and can never be
 * shared with a caller: every read decodes a new copy, which the caller may mutate freely.
 * Iteration is in insertion order and live, like a Map's.
 */
export class DocumentMap implements Iterable<[string, Document]> {
  private readonly map = new Map<string, string>();
  private bytes = 0;

  get size(): number {
    return this.map.size;
  }

  /** Total BSON bytes of the stored documents. */
  get encodedBytes(): number {
    return this.bytes;
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  get(id: string): Document | undefined {
    const stored = this.map.get(id);
    return stored === undefined ? undefined : decodeDocument(Buffer.from(stored, 'latin1'));
  }

  /** The stored BSON bytes (a copy). */
  getEncoded(id: string): Buffer | undefined {
    const stored = this.map.get(id);
    return stored === undefined ? undefined : Buffer.from(stored, 'latin1');
  }

  set(id: string, encoded: Uint8Array): void {
    const stored = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('latin1');
    const previous = this.map.get(id);
    if (previous !== undefined) this.bytes -= previous.length;
    this.map.set(flat(id), stored);
    this.bytes += stored.length;
  }

  delete(id: string): boolean {
    const previous = this.map.get(id);
    if (previous === undefined) return false;
    this.bytes -= previous.length;
    return this.map.delete(id);
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  *values(): IterableIterator<Document> {
    for (const stored of this.map.values()) yield decodeDocument(Buffer.from(stored, 'latin1'));
  }

  *entries(): IterableIterator<[string, Document]> {
    for (const [id, stored] of this.map) yield [id, decodeDocument(Buffer.from(stored, 'latin1'))];
  }

  /** The stored BSON bytes of every document (copies), in insertion order. */
  *encodedValues(): IterableIterator<Buffer> {
    for (const stored of this.map.values()) yield Buffer.from(stored, 'latin1');
  }

  [Symbol.iterator](): IterableIterator<[string, Document]> {
    return this.entries();
  }
}
