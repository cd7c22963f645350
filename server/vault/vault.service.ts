// The only module that seals and opens provider keys: libsodium XChaCha20-Poly1305 bound to the record it belongs to.
import sodium from 'libsodium-wrappers';
import type { VaultMasterKey } from '../config/config';

/** What is stored in place of a provider key. `v` names the format, `keyId` the master key that sealed it. */
export interface SealedSecret {
  v: 1;
  keyId: string;
  nonce: string; // base64
  ciphertext: string; // base64
}

/** The record a sealed secret belongs to; it is authenticated as additional data, so a moved ciphertext does not open. */
export interface SecretBinding {
  workspaceId: string;
  agentId: string;
  provider: string;
}

export type VaultOpenFailureReason = 'malformed' | 'unknown_key' | 'authentication_failed';

/** A sealed secret that cannot be opened. Never carries the key, the ciphertext or the plaintext. */
export class VaultOpenError extends Error {
  readonly code = 'VAULT_OPEN_FAILED';
  readonly reason: VaultOpenFailureReason;

  constructor(reason: VaultOpenFailureReason, message: string) {
    super(message);
    this.name = 'VaultOpenError';
    this.reason = reason;
  }
}

/** A binding or key set the vault refuses to work with (a programming or configuration error). */
export class VaultConfigurationError extends Error {
  readonly code = 'VAULT_CONFIGURATION_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'VaultConfigurationError';
  }
}

export interface Vault {
  /** The id of the master key that seals new secrets (the last of the configured keys). */
  readonly newestKeyId: string;
  seal(plaintext: string, binding: SecretBinding): SealedSecret;
  /** Throws VaultOpenError when the key id is unknown, the record is wrong or the ciphertext was altered. */
  open(sealed: SealedSecret, binding: SecretBinding): string;
  /** True when the secret was sealed with an older master key. */
  needsReseal(sealed: SealedSecret): boolean;
  /** Opens and seals again under the newest key with a fresh nonce. */
  reseal(sealed: SealedSecret, binding: SecretBinding): SealedSecret;
}

const FORMAT_VERSION = 1;
const BASE64 = () => sodium.base64_variants.ORIGINAL;

function buildAdditionalData(keyId: string, binding: SecretBinding): string {
  for (const [field, value] of Object.entries(binding) as [keyof SecretBinding, unknown][]) {
    // The fields are joined with "|", so a "|" inside one would make two records share additional data.
    if (typeof value !== 'string' || value.length === 0 || value.includes('|')) {
      throw new VaultConfigurationError(`Secret binding field "${field}" must be a non-empty string without "|"`);
    }
  }
  return `v${FORMAT_VERSION}|${keyId}|${binding.workspaceId}|${binding.agentId}|${binding.provider}`;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length === 0 || !STRICT_BASE64.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}

interface DecodedSealed {
  keyId: string;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  nonceText: string;
  ciphertextText: string;
}

/**
 * The decoded nonce and ciphertext of sealed secrets seen recently, by the sealed object (a cached agent's): opening
 * the same record again skips the base64 work. Only public bytes are kept (never a plaintext), and an entry is
 * used only while the object still holds the same strings.
 */
const decodedSealed = new WeakMap<SealedSecret, DecodedSealed>();

function decode(sealed: SealedSecret): DecodedSealed | undefined {
  const known = decodedSealed.get(sealed);
  if (known && known.keyId === sealed.keyId && known.nonceText === sealed.nonce && known.ciphertextText === sealed.ciphertext) return known;
  const nonce = decodeBase64(sealed.nonce);
  const ciphertext = decodeBase64(sealed.ciphertext);
  if (!nonce || !ciphertext) return undefined;
  const decoded = { keyId: sealed.keyId, nonce, ciphertext, nonceText: sealed.nonce, ciphertextText: sealed.ciphertext };
  decodedSealed.set(sealed, decoded);
  return decoded;
}

export async function createVault(keys: VaultMasterKey[]): Promise<Vault> {
  await sodium.ready;
  if (keys.length === 0) throw new VaultConfigurationError('The vault needs at least one master key');

  const keyBytes = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
  const nonceBytes = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  // Own copies, so a caller that later wipes or reuses its buffers cannot change the vault's keys.
  const keysById = new Map<string, Uint8Array>();
  for (const { id, key } of keys) {
    if (key.length !== keyBytes) throw new VaultConfigurationError(`Master key "${id}" must be ${keyBytes} bytes`);
    if (keysById.has(id)) throw new VaultConfigurationError(`Master key id "${id}" is configured twice`);
    keysById.set(id, Uint8Array.from(key));
  }
  const newestKeyId = keys[keys.length - 1]!.id;

  function seal(plaintext: string, binding: SecretBinding): SealedSecret {
    if (typeof plaintext !== 'string' || plaintext.length === 0) {
      throw new VaultConfigurationError('Only a non-empty string can be sealed');
    }
    const additionalData = buildAdditionalData(newestKeyId, binding);
    const nonce = sodium.randombytes_buf(nonceBytes);
    const message = sodium.from_string(plaintext);
    try {
      const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        message,
        additionalData,
        null,
        nonce,
        keysById.get(newestKeyId)!,
      );
      return {
        v: FORMAT_VERSION,
        keyId: newestKeyId,
        nonce: sodium.to_base64(nonce, BASE64()),
        ciphertext: sodium.to_base64(ciphertext, BASE64()),
      };
    } finally {
      sodium.memzero(message);
    }
  }

  function open(sealed: SealedSecret, binding: SecretBinding): string {
    if (typeof sealed !== 'object' || sealed === null || sealed.v !== FORMAT_VERSION || typeof sealed.keyId !== 'string') {
      throw new VaultOpenError('malformed', 'The sealed secret is not in a format this vault understands');
    }
    const key = keysById.get(sealed.keyId);
    if (!key) {
      throw new VaultOpenError('unknown_key', 'The sealed secret names a master key that is not configured');
    }
    const decoded = decode(sealed);
    if (!decoded || decoded.nonce.length !== nonceBytes) {
      throw new VaultOpenError('malformed', 'The sealed secret is not in a format this vault understands');
    }
    const additionalData = Buffer.from(buildAdditionalData(sealed.keyId, binding), 'utf8');
    let message: Uint8Array;
    try {
      message = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, decoded.ciphertext, additionalData, decoded.nonce, key);
    } catch {
      throw new VaultOpenError(
        'authentication_failed',
        'The sealed secret could not be opened: it was altered or belongs to another record',
      );
    }
    try {
      return Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8');
    } finally {
      sodium.memzero(message);
    }
  }

  return {
    newestKeyId,
    seal,
    open,
    needsReseal: (sealed) => sealed.keyId !== newestKeyId,
    reseal: (sealed, binding) => seal(open(sealed, binding), binding),
  };
}

// Longest first, so "sk-ant-" wins over "sk-".
const KNOWN_KEY_PREFIXES = ['sk-or-v1-', 'sk-proj-', 'sk-ant-', 'gsk_', 'sk-'];
const MINIMUM_BODY_TO_SHOW_FOUR = 12;

/** What the API shows instead of a key: the well-known prefix, "…" and the last 4 characters (fewer for short keys). */
export function maskSecret(key: string): string {
  const trimmed = key.trim();
  const prefix = KNOWN_KEY_PREFIXES.find((candidate) => trimmed.startsWith(candidate)) ?? '';
  const body = trimmed.slice(prefix.length);
  if (body.length >= MINIMUM_BODY_TO_SHOW_FOUR) return `${prefix}…${body.slice(-4)}`;
  // A short key would be half given away by its tail: show at most 2 characters and never more than a quarter.
  const shown = Math.min(2, Math.floor(trimmed.length / 4));
  return shown > 0 ? `…${trimmed.slice(-shown)}` : '…';
}
