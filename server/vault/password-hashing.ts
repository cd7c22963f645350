// User passwords: libsodium crypto_pwhash_str (Argon2id, interactive limits). The sumo build is the one that ships pwhash.
import sodium from 'libsodium-wrappers-sumo';

/** Longer inputs are refused so a megabyte "password" cannot be used to burn CPU. */
export const MAXIMUM_PASSWORD_LENGTH = 1024;

export class PasswordHashingError extends Error {
  readonly code = 'PASSWORD_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'PasswordHashingError';
  }
}

/** Returns an encoded `$argon2id$...` string that carries its own salt and parameters. */
export async function hashPassword(password: string): Promise<string> {
  await sodium.ready;
  if (typeof password !== 'string' || password.length === 0 || password.length > MAXIMUM_PASSWORD_LENGTH) {
    throw new PasswordHashingError(`A password must be 1 to ${MAXIMUM_PASSWORD_LENGTH} characters`);
  }
  return sodium.crypto_pwhash_str(password, sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

/** False for a wrong password and for a hash that is not a libsodium pwhash string; never throws for bad input. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  await sodium.ready;
  if (typeof hash !== 'string' || !hash.startsWith('$argon2')) return false;
  if (typeof password !== 'string' || password.length === 0 || password.length > MAXIMUM_PASSWORD_LENGTH) return false;
  try {
    return sodium.crypto_pwhash_str_verify(hash, password);
  } catch {
    return false;
  }
}

/** True when a stored hash was made with weaker parameters than today's, so it can be upgraded at the next login. */
export async function passwordNeedsRehash(hash: string): Promise<boolean> {
  await sodium.ready;
  try {
    return sodium.crypto_pwhash_str_needs_rehash(
      hash,
      sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
      sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
    );
  } catch {
    return true;
  }
}
