import { randomBytes } from "@noble/ciphers/utils.js";
import { BackendChooser, gcmOpen, gcmSeal, type BackendOptions } from "./cipher-backend.ts";
import type { Crypter } from "./crypter.ts";
import { InvalidArgumentError, TruncatedError } from "./errors.ts";
import { assertBytes, keyBytes, type KeyInput } from "./key-material.ts";

const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

/** Options of {@link LegacyAesGcmCrypter}. */
export type LegacyAesGcmCrypterOptions = BackendOptions;

/**
 * The Go reference's format, byte for byte: nonce(12) || ciphertext || tag(16), AES-GCM with
 * the raw key (AES-128/192/256 by key size) and no associated data unless the caller passes
 * some. It has no version, no key id and random nonces under one key forever: use it to read
 * (and migrate) reference files, and {@link AesGcmCrypter} for anything new.
 */
export class LegacyAesGcmCrypter implements Crypter {
  readonly #key: Uint8Array;
  readonly #backend: BackendChooser;
  #destroyed = false;

  /**
   * @param key 16, 24 or 32 bytes, or a string: `hex:…`, `base64:…`, or its UTF-8 bytes
   *   (`"1234567890123456"`; see {@link KeyInput}).
   * @throws KeySizeError (`BAD_KEY_SIZE`) for any other size; InvalidArgumentError
   *   (`INVALID_ARGUMENT`) for a string that is not well-formed UTF-16 or a bad `hex:`/`base64:` string.
   */
  constructor(key: KeyInput, options: LegacyAesGcmCrypterOptions = {}) {
    this.#backend = new BackendChooser(options);
    this.#key = keyBytes(key);
  }

  /** Seals in the reference format with a fresh random 12-byte nonce. */
  async encrypt(plaintext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    assertBytes(plaintext, "plaintext");
    if (associatedData !== undefined) assertBytes(associatedData, "associatedData");
    const nonce = randomBytes(NONCE_LENGTH);
    const sealed = await gcmSeal(
      this.#backend.pick(plaintext.length),
      this.#liveKey(),
      nonce,
      associatedData,
      plaintext,
    );
    const out = new Uint8Array(NONCE_LENGTH + sealed.length);
    out.set(nonce, 0);
    out.set(sealed, NONCE_LENGTH);
    return out;
  }

  /**
   * @throws TruncatedError (`TRUNCATED`) below 28 bytes; AuthenticationError (`AUTH_FAILED`)
   *   for a wrong key, other associated data or changed bytes.
   */
  async decrypt(ciphertext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    assertBytes(ciphertext, "ciphertext");
    if (associatedData !== undefined) assertBytes(associatedData, "associatedData");
    if (ciphertext.length < NONCE_LENGTH + TAG_LENGTH) {
      throw new TruncatedError(NONCE_LENGTH + TAG_LENGTH, ciphertext.length, "legacy ciphertext");
    }
    return gcmOpen(
      this.#backend.pick(ciphertext.length),
      this.#liveKey(),
      ciphertext.subarray(0, NONCE_LENGTH),
      associatedData,
      ciphertext.subarray(NONCE_LENGTH),
    );
  }

  /** Zeroes this crypter's copy of the key; every later call throws `INVALID_ARGUMENT`. */
  destroy(): void {
    this.#key.fill(0);
    this.#destroyed = true;
  }

  #liveKey(): Uint8Array {
    if (this.#destroyed) throw new InvalidArgumentError("crypter was destroyed: its key is zeroed");
    return this.#key;
  }
}
