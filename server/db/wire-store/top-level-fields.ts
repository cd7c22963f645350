// Reads chosen top-level fields of a stored BSON document without decoding the rest (journal replay decodes
// only `_id` and the fields the indexes need).
import { ObjectId, type Document } from 'bson';
import { decodeDocument } from './document-map';

const fieldNameBytes = new WeakMap<readonly string[], Buffer[]>();

function int32At(b: Buffer, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** Size of a BSON element's value starting at `at`, or -1 for an unknown type. */
function bsonValueSize(b: Buffer, type: number, at: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string
    case 0x0d: // code
    case 0x0e: // symbol
      return 4 + int32At(b, at);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return int32At(b, at);
    case 0x05: // binary
      return 5 + int32At(b, at);
    case 0x06: // undefined
    case 0x0a: // null
    case 0xff: // min key
    case 0x7f: // max key
      return 0;
    case 0x07: // ObjectId
      return 12;
    case 0x08: // boolean
      return 1;
    case 0x0b: {
      // regex: two cstrings
      const patternEnd = b.indexOf(0, at);
      const flagsEnd = patternEnd < 0 ? -1 : b.indexOf(0, patternEnd + 1);
      return flagsEnd < 0 ? -1 : flagsEnd + 1 - at;
    }
    case 0x0c: // DBPointer
      return 4 + int32At(b, at) + 12;
    case 0x10: // int32
      return 4;
    case 0x13: // decimal128
      return 16;
    default:
      return -1;
  }
}

/**
 * The top-level fields `names` of a BSON document, decoded (values exactly as decodeDocument gives them) without
 * decoding the other fields; undefined when the document's first field is not `_id` or its bytes do not parse.
 * Common scalar types are read here; any other picked field goes through the BSON decoder in a small document.
 */
export function decodeTopLevelFields(bytes: Buffer, names: readonly string[]): Document | undefined {
  let wanted = fieldNameBytes.get(names);
  if (!wanted) {
    wanted = names.map((n) => Buffer.from(n, 'utf8'));
    fieldNameBytes.set(names, wanted);
  }
  const end = bytes.length - 1;
  if (end < 4 || bytes.readInt32LE(0) !== bytes.length || bytes[end] !== 0) return undefined;
  // The first element must be `_id` (0x5f 0x69 0x64), as Collection.withId stores it.
  if (end < 9 || bytes[5] !== 0x5f || bytes[6] !== 0x69 || bytes[7] !== 0x64 || bytes[8] !== 0) return undefined;
  if (wanted.length > 30) return undefined;
  const out: Document = {};
  let seen = 0;
  let rest: number[] | undefined;
  let restBytes = 0;
  let at = 4;
  while (at < end) {
    const type = bytes[at]!;
    // Field names are short: a plain loop beats a native indexOf call here.
    let nameEnd = at + 1;
    while (nameEnd < end && bytes[nameEnd] !== 0) nameEnd++;
    if (nameEnd >= end) return undefined;
    const value = nameEnd + 1;
    const size = bsonValueSize(bytes, type, value);
    const next = value + size;
    if (size < 0 || next > end) return undefined;
    const nameLength = nameEnd - at - 1;
    for (let w = 0; w < wanted.length; w++) {
      const name = wanted[w]!;
      if (name.length !== nameLength) continue;
      let same = true;
      for (let k = 0; k < nameLength; k++) {
        if (name[k] !== bytes[at + 1 + k]) {
          same = false;
          break;
        }
      }
      if (!same) continue;
      // A repeated field name: leave it to the full decoder.
      if (seen & (1 << w)) return undefined;
      seen |= 1 << w;
      const key = names[w]!;
      switch (type) {
        case 0x02:
          out[key] = bytes.toString('utf8', value + 4, next - 1);
          break;
        case 0x07: {
          const id = Buffer.allocUnsafe(12);
          bytes.copy(id, 0, value, next);
          out[key] = new ObjectId(id);
          break;
        }
        case 0x09:
          out[key] = new Date(bytes.readInt32LE(value + 4) * 4294967296 + bytes.readUInt32LE(value));
          break;
        case 0x10:
          out[key] = bytes.readInt32LE(value);
          break;
        case 0x01:
          out[key] = bytes.readDoubleLE(value);
          break;
        case 0x08:
          out[key] = bytes[value] === 1;
          break;
        case 0x0a:
          out[key] = null;
          break;
        default:
          (rest ??= []).push(at, next);
          restBytes += next - at;
      }
      break;
    }
    at = next;
  }
  if (at !== end) return undefined;
  if (rest) {
    const mini = Buffer.allocUnsafe(restBytes + 5);
    mini.writeInt32LE(restBytes + 5, 0);
    let w = 4;
    for (let i = 0; i < rest.length; i += 2) w += bytes.copy(mini, w, rest[i]!, rest[i + 1]!);
    mini[w] = 0;
    Object.assign(out, decodeDocument(mini));
  }
  return out;
}
