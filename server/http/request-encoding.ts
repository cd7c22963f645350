// Request bodies are UTF-8 or refused: a byte sequence that is not UTF-8 would otherwise be decoded into U+FFFD and
// stored (an agent renamed to "\uFFFD\uFFFD"). Used by the Express JSON parser and by /v1's own body reader.
import { isUtf8 } from 'node:buffer';
import { DomainError } from '../errors/domain-error';

export function assertUtf8Body(body: Buffer): void {
  if (!isUtf8(body)) throw new DomainError('UNSUPPORTED_ENCODING', 'The request body is not valid UTF-8.');
}
