import { gcm as gcmJs } from "@noble/ciphers/aes.js";
import { gcm as gcmWebCrypto } from "@noble/ciphers/webcrypto.js";
import { AuthenticationError, InvalidArgumentError } from "./errors.ts";

/**
 * Where AES-GCM runs:
 * - `"js"`: noble's pure-JS AES-GCM, synchronous on the calling thread (fast to start, ~12 ms/MiB of blocking).
 * - `"webcrypto"`: noble's wrapper over `crypto.subtle`, which Node runs on its thread pool.
 * Both produce byte-identical output for the same key, nonce and AAD.
 */
export type CipherBackend = "js" | "webcrypto";

/** `"auto"` picks by message size: {@link CipherBackend} `"js"` below the threshold, `"webcrypto"` from it up. */
export type CipherBackendOption = "auto" | CipherBackend;

/** Options shared by both crypters for choosing the AES-GCM implementation. */
export interface BackendOptions {
  /**
   * Which AES-GCM implementation to use. `"auto"` uses pure JS for inputs smaller than
   * `webCryptoThreshold` and WebCrypto for larger ones, and pure JS everywhere when
   * `globalThis.crypto.subtle` is missing.
   * @default "auto"
   */
  backend?: CipherBackendOption;
  /**
   * Size in bytes (plaintext when sealing, ciphertext when opening) from which `"auto"` uses WebCrypto.
   * @default 2048
   */
  webCryptoThreshold?: number;
}

/** Where `"auto"` switches to WebCrypto; see the README's benchmark table for the crossover. */
export const DEFAULT_WEBCRYPTO_THRESHOLD = 2048;

/** True when `crypto.subtle` is there to run AES-GCM natively. */
export function hasWebCrypto(): boolean {
  const subtle = (globalThis as { crypto?: { subtle?: { encrypt?: unknown } } }).crypto?.subtle;
  return typeof subtle?.encrypt === "function";
}

/** Validated backend choice, made once per crypter. */
export class BackendChooser {
  readonly #option: CipherBackendOption;
  readonly #threshold: number;

  constructor(options: BackendOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(`options expected an object, got ${options === null ? "null" : typeof options}`);
    }
    const option = options.backend ?? "auto";
    if (option !== "auto" && option !== "js" && option !== "webcrypto") {
      throw new InvalidArgumentError(`backend expected "auto", "js" or "webcrypto", got ${JSON.stringify(option)}`);
    }
    if (option === "webcrypto" && !hasWebCrypto()) {
      throw new InvalidArgumentError('backend "webcrypto" requested but globalThis.crypto.subtle is missing');
    }
    const threshold = options.webCryptoThreshold ?? DEFAULT_WEBCRYPTO_THRESHOLD;
    if (!Number.isSafeInteger(threshold) || threshold < 0) {
      throw new InvalidArgumentError(`webCryptoThreshold expected a non-negative integer, got ${String(threshold)}`);
    }
    this.#option = option;
    this.#threshold = threshold;
  }

  /** The backend for a message of `size` bytes. */
  pick(size: number): CipherBackend {
    if (this.#option !== "auto") return this.#option;
    return size >= this.#threshold && hasWebCrypto() ? "webcrypto" : "js";
  }
}

/** AES-GCM seal: returns ciphertext || tag(16). The nonce must already be validated as 12 bytes. */
export async function gcmSeal(
  backend: CipherBackend,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  if (backend === "webcrypto") return gcmWebCrypto(key, nonce, aad).encrypt(plaintext);
  return gcmJs(key, nonce, aad).encrypt(plaintext);
}

/**
 * AES-GCM open of ciphertext || tag(16). Every failure of the primitive (a wrong tag, in
 * practice) becomes an {@link AuthenticationError}: callers never see plaintext that did not verify.
 */
export async function gcmOpen(
  backend: CipherBackend,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  try {
    if (backend === "webcrypto") return await gcmWebCrypto(key, nonce, aad).decrypt(sealed);
    return gcmJs(key, nonce, aad).decrypt(sealed);
  } catch (cause) {
    throw new AuthenticationError(undefined, { cause });
  }
}
