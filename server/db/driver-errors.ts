// Driver errors stop here: the MongoDB driver's codes and error classes become booleans and domain errors for services.
import { DomainError } from '../errors/domain-error';

const DUPLICATE_KEY_CODES = new Set([11000, 11001]);

/** A unique index refused the write. */
export function isDuplicateKeyError(error: unknown): boolean {
  const code = (error as { code?: number })?.code;
  return code !== undefined && DUPLICATE_KEY_CODES.has(code);
}

/**
 * The positions a bulk insert refused as duplicates, when every write error is one; undefined when any other error
 * (or none at all) is behind the failure, which the caller then rethrows.
 */
export function duplicateWriteIndexes(error: unknown): number[] | undefined {
  const writeErrors = (error as { writeErrors?: Array<{ index: number; code: number }> | { index: number; code: number } })?.writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0 || list.some((writeError) => !DUPLICATE_KEY_CODES.has(writeError.code))) return undefined;
  return list.map((writeError) => writeError.index);
}

/** createCollection on a collection that exists (NamespaceExists): harmless for idempotent set-up. */
export function isNamespaceExistsError(error: unknown): boolean {
  return (error as { code?: number })?.code === 48;
}

// The driver's and mongoose's names for "the server could not be reached or answered too late".
const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
]);

/** A driver failure that is not the request's fault, as DB_UNAVAILABLE; undefined for anything else. */
export function translateDriverError(error: unknown): DomainError | undefined {
  const name = (error as Error)?.name;
  const bufferingTimedOut = name === 'MongooseError' && /buffering timed out/.test((error as Error).message);
  if (!UNAVAILABLE_ERROR_NAMES.has(name) && !bufferingTimedOut) return undefined;
  return new DomainError('DB_UNAVAILABLE', 'The database is not answering right now. Please try again in a moment.', { retryAfterSeconds: 5, cause: error });
}

export const OBJECT_ID_PATTERN = /^[a-f0-9]{24}$/;
