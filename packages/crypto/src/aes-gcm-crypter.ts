import { BackendChooser, type BackendOptions } from "./cipher-backend.ts";
import type { Crypter } from "./crypter.ts";
import { openEnvelope, sealEnvelope } from "./envelope.ts";
import { parseEnvelope } from "./envelope-format.ts";
import { assertBytes, type KeyInput } from "./key-material.ts";
import { Keyring, type KeyEntry } from "./keyring.ts";

/** Options of {@link AesGcmCrypter}. */
export interface AesGcmCrypterOptions extends BackendOptions {
  /**
   * Id of the primary key, written into every envelope it seals (uint32).
   * @default 0
   */
  keyId?: number;
  /**
   * Older keys that may still open envelopes but never seal new ones, each with the id
   * it was used under. Their envelopes report `needsRewrap() === true`.
   * @default []
   */
  previousKeys?: readonly KeyEntry[];
}

/**
 * Seals bytes in mk's versioned envelope (format v1): magic, version, algorithm, flags and
 * key id in an authenticated header, a per-message HKDF-SHA256 subkey for AES-256-GCM, and a
 * key commitment. See the README for the byte layout.
 *
 * @example
 * ```ts
 * const crypter = new AesGcmCrypter(key32, { keyId: 2, previousKeys: [{ id: 1, key: oldKey }] });
 * const sealed = await crypter.encrypt(new TextEncoder().encode("{}"), new TextEncoder().encode("echo"));
 * if (crypter.needsRewrap(stored)) stored = await crypter.rewrap(stored, ad);
 * ```
 */
export class AesGcmCrypter implements Crypter {
  readonly #keyring: Keyring;
  readonly #backend: BackendChooser;

  /**
   * @param key The primary key: 16, 24 or 32 bytes, or a string: `hex:<hex digits>`,
   *   `base64:<base64>`, or any other string taken as its UTF-8 bytes (see {@link KeyInput}).
   * @throws KeySizeError (`BAD_KEY_SIZE`) for any other size; InvalidArgumentError (`INVALID_ARGUMENT`)
   *   for a bad key id, duplicate ids, an unavailable backend, a string that is not well-formed
   *   UTF-16, or a `hex:`/`base64:` string that is not hex/base64.
   */
  constructor(key: KeyInput, options: AesGcmCrypterOptions = {}) {
    this.#backend = new BackendChooser(options);
    this.#keyring = new Keyring({ id: options.keyId ?? 0, key }, options.previousKeys ?? []);
  }

  /** Id of the key that seals new envelopes. */
  get primaryKeyId(): number {
    return this.#keyring.primaryId;
  }

  /** Ids of every key that can open envelopes (primary first). */
  get keyIds(): number[] {
    return this.#keyring.ids;
  }

  /**
   * Seals `plaintext` under the primary key with a fresh salt and nonce.
   * @throws InvalidArgumentError when an argument is not a Uint8Array.
   */
  async encrypt(plaintext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    assertBytes(plaintext, "plaintext");
    if (associatedData !== undefined) assertBytes(associatedData, "associatedData");
    return sealEnvelope(
      this.#backend.pick(plaintext.length),
      this.#keyring.primary(),
      this.#keyring.primaryId,
      plaintext,
      associatedData,
    );
  }

  /**
   * Opens an envelope sealed by any key in the keyring, selected by its key id.
   * @throws NotAnEnvelopeError (`BAD_MAGIC`), TruncatedError (`TRUNCATED`),
   *   UnsupportedFormatError (`UNSUPPORTED_VERSION`, `UNSUPPORTED_ALGORITHM`, `UNKNOWN_FLAGS`),
   *   UnknownKeyError (`UNKNOWN_KEY`), AuthenticationError (`AUTH_FAILED`: wrong key,
   *   other associated data, or changed bytes).
   */
  async decrypt(ciphertext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    assertBytes(ciphertext, "ciphertext");
    if (associatedData !== undefined) assertBytes(associatedData, "associatedData");
    const envelope = parseEnvelope(ciphertext);
    const deriver = this.#keyring.get(envelope.keyId);
    return openEnvelope(this.#backend.pick(ciphertext.length), deriver, envelope, associatedData);
  }

  /**
   * Opens with whichever known key sealed it and seals again under the primary key
   * (fresh salt and nonce). Use it to migrate envelopes before retiring an old key.
   * @throws the same errors as {@link AesGcmCrypter.decrypt}.
   */
  async rewrap(ciphertext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    const plaintext = await this.decrypt(ciphertext, associatedData);
    try {
      return await this.encrypt(plaintext, associatedData);
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * True when the envelope names a key other than the primary: a store should rewrite it
   * (see {@link AesGcmCrypter.rewrap}) at its next save. Reads the header only; it does not
   * authenticate, so call it on something {@link AesGcmCrypter.decrypt} has accepted.
   * @throws the header errors of {@link AesGcmCrypter.decrypt} (not AUTH_FAILED).
   */
  needsRewrap(ciphertext: Uint8Array): boolean {
    return this.keyIdOf(ciphertext) !== this.#keyring.primaryId;
  }

  /** The key id in the envelope header (unauthenticated until decrypted). */
  keyIdOf(ciphertext: Uint8Array): number {
    assertBytes(ciphertext, "ciphertext");
    return parseEnvelope(ciphertext).keyId;
  }

  /**
   * Zeroes this crypter's copies of its keys; every later call throws `INVALID_ARGUMENT`.
   * JS cannot promise that no other copy exists (see the README's limits).
   */
  destroy(): void {
    this.#keyring.destroy();
  }
}
