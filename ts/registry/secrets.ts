/**
 * Secrets at rest: the one module that turns a secret (a SigV4 secret access key, an
 * issuing CA's private key) into what the registry stores, and back. Both backends call
 * it at their storage boundary (the SQL parameter and the row mapping), so no other
 * code sees a sealed value and no backend writes a secret any other way.
 *
 * Envelope encryption with AES-256-GCM (NIST SP 800-38D) from node:crypto:
 * - every secret gets its own random 256-bit data key, which encrypts the secret;
 * - the operator's master key (`--master-key-file`, 32 random bytes) encrypts ("wraps")
 *   the data key;
 * - the stored value names the master key by its id, so `rotateMasterKey` can re-wrap
 *   the data keys alone (the secrets' own ciphertexts do not change);
 * - both encryptions carry associated data naming the secret's row and purpose (its
 *   "binding", e.g. `credential:AKIA…`), so a ciphertext copied into another row, or a
 *   wrapped key moved between secrets, fails authentication instead of decrypting.
 *
 * Stored form (ASCII, fits the existing TEXT columns):
 *   `cgsealed1.<key id>.<wrapped data key>.<sealed secret>` where the last two are
 *   base64url of `iv (12) | ciphertext | tag (16)`.
 *
 * A registry is either clear (no master key has ever been given: secrets stored as
 * they were before this module existed) or sealed (a `secrets_sealing` row names the
 * master key's id). Giving a master key to a clear registry seals it in place, in one
 * transaction (`sealRegistry`); a sealed registry never stores a clear secret again.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RegistryError } from './types.js';

/** AES-256: 32-byte keys (master and data keys). */
export const MASTER_KEY_BYTES = 32;
/** GCM's recommended 96-bit IV (NIST SP 800-38D section 8.2); random per encryption. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'cgsealed1';

/** The environment variable naming the master key file when `--master-key-file` is absent. */
export const MASTER_KEY_ENV = 'CERTGATE_MASTER_KEY_FILE';

/** An operator's master key and its id (derived from the key; it reveals nothing of it). */
export class MasterKey {
  readonly id: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== MASTER_KEY_BYTES) throw new Error(`a master key is ${MASTER_KEY_BYTES} bytes, not ${key.length}`);
    this.#key = Buffer.from(key);
    // HMAC of a fixed label: the same key always has the same id, and the id does not
    // help anyone guess the key. 16 hex digits tell keys apart; they are not a secret.
    this.id = createHmac('sha256', this.#key).update('certgate master key id').digest('hex').slice(0, 16);
  }

  /** @internal AES-256-GCM under the master key. */
  encrypt(plain: Buffer, aad: string): Buffer {
    return encrypt(this.#key, plain, aad);
  }

  /** @internal */
  decrypt(sealed: Buffer, aad: string): Buffer {
    return decrypt(this.#key, sealed, aad);
  }
}

/** A master key file that cannot be used; the message says what is wrong with it. */
export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

/**
 * Read a master key file: exactly 32 bytes (raw), or those 32 bytes in base64 (standard
 * or url-safe alphabet; surrounding whitespace ignored), e.g. made with
 * `openssl rand -base64 32 > master.key`. Anything else is refused, never padded or hashed
 * into shape: a short or mistyped key would silently weaken every secret.
 */
export function readMasterKeyFile(file: string): MasterKey {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new MasterKeyError(`cannot read the master key file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (raw.length === MASTER_KEY_BYTES) return new MasterKey(raw);
  const text = raw.toString('latin1').trim();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (decoded.length === MASTER_KEY_BYTES) return new MasterKey(decoded);
  }
  throw new MasterKeyError(
    `the master key file ${file} must hold ${MASTER_KEY_BYTES} random bytes, raw or base64 (e.g. \`openssl rand -base64 32 > ${file}\`); it holds ${raw.length} bytes that are neither`,
  );
}

/** `--master-key-file`, else `CERTGATE_MASTER_KEY_FILE`, read; undefined when neither is set. */
export function resolveMasterKey(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): MasterKey | undefined {
  const file = explicit ?? env[MASTER_KEY_ENV];
  return file === undefined || file === '' ? undefined : readMasterKeyFile(file);
}

/** What a secret is and which row holds it: the associated data of its encryption. */
export const binding = {
  credential: (accessKeyId: string) => `credential:${accessKeyId}`,
  installationIssuingCa: () => 'issuing-ca:installation',
  accountIssuingCa: (accountId: string) => `issuing-ca:account:${accountId}`,
} as const;

function encrypt(key: Buffer, plain: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function decrypt(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}

const wrapAad = (bind: string, keyId: string) => `certgate data key\0${bind}\0${keyId}`;
const secretAad = (bind: string) => `certgate secret\0${bind}`;

interface Parts {
  keyId: string;
  wrapped: Buffer;
  secret: Buffer;
}

/** Whether a stored value is sealed (as opposed to a clear secret of a clear registry). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(`${PREFIX}.`);
}

function parse(stored: string, bind: string): Parts {
  const [prefix, keyId, wrapped, secret, ...rest] = stored.split('.');
  if (prefix !== PREFIX || keyId === undefined || wrapped === undefined || secret === undefined || rest.length > 0) {
    throw tampered(bind, 'it is not in the sealed format');
  }
  return { keyId, wrapped: Buffer.from(wrapped, 'base64url'), secret: Buffer.from(secret, 'base64url') };
}

function tampered(bind: string, why: string): RegistryError {
  return new RegistryError(
    'SECRET_TAMPERED',
    'SECRET_TAMPERED',
    { bind },
    `The stored secret ${bind} cannot be opened: ${why}. It was altered or copied from another row; restore it from a backup or replace it.`,
  );
}

/** The refusal when a secret is needed and no master key was given. */
export function secretsLocked(): RegistryError {
  return new RegistryError(
    'SECRETS_LOCKED',
    'SECRETS_LOCKED',
    {},
    `The registry's secrets are encrypted and no master key was given: pass --master-key-file FILE (or set ${MASTER_KEY_ENV}).`,
  );
}

/** The refusal when the given master key is not the one the registry is sealed with. */
export function wrongMasterKey(given: MasterKey, sealedWith: string): RegistryError {
  return new RegistryError(
    'MASTER_KEY_MISMATCH',
    'MASTER_KEY_MISMATCH',
    { given: given.id, sealedWith },
    `The master key given (id ${given.id}) is not the one this registry's secrets are encrypted with (id ${sealedWith}); check --master-key-file / ${MASTER_KEY_ENV}.`,
  );
}

/** Seal `plain` for the row `bind` with a fresh data key wrapped by `key`. */
export function seal(key: MasterKey, plain: string, bind: string): string {
  const dataKey = randomBytes(MASTER_KEY_BYTES);
  try {
    const secret = encrypt(dataKey, Buffer.from(plain, 'utf8'), secretAad(bind));
    const wrapped = key.encrypt(dataKey, wrapAad(bind, key.id));
    return [PREFIX, key.id, wrapped.toString('base64url'), secret.toString('base64url')].join('.');
  } finally {
    dataKey.fill(0);
  }
}

function unwrap(key: MasterKey, parts: Parts, bind: string): Buffer {
  if (parts.keyId !== key.id) throw wrongMasterKey(key, parts.keyId);
  try {
    return key.decrypt(parts.wrapped, wrapAad(bind, parts.keyId));
  } catch {
    throw tampered(bind, 'its data key does not authenticate');
  }
}

/** Open a sealed value of the row `bind`. */
export function open(key: MasterKey | undefined, stored: string, bind: string): string {
  const parts = parse(stored, bind);
  if (key === undefined) throw secretsLocked();
  const dataKey = unwrap(key, parts, bind);
  try {
    return decrypt(dataKey, parts.secret, secretAad(bind)).toString('utf8');
  } catch {
    throw tampered(bind, 'its ciphertext does not authenticate');
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wrap the data key of a sealed value from `from` to `to`; the secret's ciphertext is kept. */
export function rewrap(from: MasterKey, to: MasterKey, stored: string, bind: string): string {
  const parts = parse(stored, bind);
  const dataKey = unwrap(from, parts, bind);
  try {
    // Authenticate the secret under its data key before re-wrapping: rotation must not
    // carry a corrupted value forward under a fresh wrapping.
    decrypt(dataKey, parts.secret, secretAad(bind));
    const wrapped = to.encrypt(dataKey, wrapAad(bind, to.id));
    return [PREFIX, to.id, wrapped.toString('base64url'), parts.secret.toString('base64url')].join('.');
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    throw tampered(bind, 'its ciphertext does not authenticate');
  } finally {
    dataKey.fill(0);
  }
}

/**
 * One registry's view of its secrets: the master key this process was given (if any)
 * and the id of the key the registry is sealed with (`null`: a clear registry), read in
 * the same transaction as the secret. Backends build one per call with `secretBox`.
 */
export interface SecretBox {
  /** What to store for the secret `plain` of row `bind`. */
  store(plain: string, bind: string): string;
  /** The secret of row `bind` from its stored value. */
  read(stored: string, bind: string): string;
}

/**
 * The box for a registry sealed with `sealedWith` (null: clear) and this process's
 * `key`. Refusals: SECRETS_LOCKED (sealed, no key), MASTER_KEY_MISMATCH (another key),
 * SECRET_TAMPERED (a value that does not authenticate, or a clear value in a sealed
 * registry: something wrote around this module).
 */
export function secretBox(key: MasterKey | undefined, sealedWith: string | null): SecretBox {
  const checkKey = (): MasterKey => {
    if (key === undefined) throw secretsLocked();
    if (sealedWith !== null && key.id !== sealedWith) throw wrongMasterKey(key, sealedWith);
    return key;
  };
  return {
    store(plain, bind) {
      // A clear registry opened without a key keeps storing clear secrets (as before
      // sealing existed); with a key the registry was sealed when it was opened.
      if (sealedWith === null && key === undefined) return plain;
      return seal(checkKey(), plain, bind);
    },
    read(stored, bind) {
      if (!isSealed(stored)) {
        if (sealedWith !== null) throw tampered(bind, 'it is stored in clear in an encrypted registry');
        return stored;
      }
      return open(checkKey(), stored, bind);
    },
  };
}

/** What `sealRegistry` and `rotateMasterKey` did. */
export interface ResealReport {
  /** Secrets rewritten (sealed, or re-wrapped). */
  secrets: number;
  /** The master key id the registry is sealed with afterwards. */
  keyId: string;
}

/**
 * The rewrite a backend runs over every stored secret in one transaction: `check` sees
 * the current sealing key id (null: clear) and throws to refuse; `rewrite` returns the
 * new stored value; afterwards the registry is sealed with `keyId`.
 */
export interface SecretRewrite {
  keyId: string;
  check(current: string | null): void;
  rewrite(stored: string, bind: string): string;
}

/** Seal every clear secret with `key` (a clear registry becomes sealed; a sealed one must use `key`). */
export function sealingRewrite(key: MasterKey): SecretRewrite {
  return {
    keyId: key.id,
    check(current) {
      if (current !== null && current !== key.id) throw wrongMasterKey(key, current);
    },
    rewrite(stored, bind) {
      // Sealed values are left as they are (`check` made sure the registry uses this
      // key); one that does not authenticate is refused when it is read, and must not
      // stop every process from opening the registry.
      return isSealed(stored) ? stored : seal(key, stored, bind);
    },
  };
}

/** Re-wrap every data key from `from` to `to` (the registry must be sealed with `from`). */
export function rotationRewrite(from: MasterKey, to: MasterKey): SecretRewrite {
  return {
    keyId: to.id,
    check(current) {
      if (current === null) {
        throw new RegistryError(
          'SECRETS_LOCKED',
          'SECRETS_LOCKED',
          {},
          'The registry is not encrypted yet, so there is no master key to rotate: encrypt it with `certgate registry encrypt --master-key-file FILE`.',
        );
      }
      if (current !== from.id) throw wrongMasterKey(from, current);
    },
    rewrite(stored, bind) {
      if (!isSealed(stored)) throw tampered(bind, 'it is stored in clear in an encrypted registry');
      return rewrap(from, to, stored, bind);
    },
  };
}
