import { gcm as gcmJs } from "@noble/ciphers/aes.js";
import { gcm as gcmWebCrypto } from "@noble/ciphers/webcrypto.js";
import { AuthenticationError, InvalidArgumentError } from "./errors.ts";

const TAG_LENGTH = 16;

/**
 * Where AES-GCM runs:
 * - `"js"`: noble's pure-JS AES-GCM, synchronous on the calling thread (fast to start, ~12 ms/MiB of blocking).
 * - `"webcrypto"`: noble's wrapper over `crypto.subtle`, which Node runs on its thread pool.
 * Both produce byte-identical output for the same key, nonce and AAD.
 */
export type CipherBackend = "js" | "webcrypto";

/**
 * What actually runs one AES-GCM call: a {@link CipherBackend}, or `"node"`, node:crypto's native
 * AES-GCM (synchronous, on the calling thread), which `"auto"` uses wherever Node provides it.
 * Internal: not an option callers can name.
 */
export type CipherEngine = CipherBackend | "node";

/** The slice of node:crypto used here (typed locally: no static import, so bundles for browsers still load). */
interface NodeGcm {
  setAAD(aad: Uint8Array): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}
interface NodeCrypto {
  createCipheriv(
    algorithm: string,
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeGcm & { getAuthTag(): Uint8Array };
  createDecipheriv(
    algorithm: string,
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeGcm & { setAuthTag(tag: Uint8Array): unknown };
}

/**
 * node:crypto when the runtime hands it out without a static import (`process.getBuiltinModule`,
 * Node >= 20.16); undefined elsewhere (browsers, older Node), where `"auto"` keeps to noble.
 */
export function loadNodeCrypto(): NodeCrypto | undefined {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== "function") return undefined;
  try {
    const mod = get("node:crypto") as Partial<NodeCrypto> | undefined;
    return typeof mod?.createCipheriv === "function" && typeof mod.createDecipheriv === "function"
      ? (mod as NodeCrypto)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `"auto"` runs node:crypto's native AES-GCM where Node provides it; elsewhere it picks by message
 * size: {@link CipherBackend} `"js"` below the threshold, `"webcrypto"` from it up.
 */
export type CipherBackendOption = "auto" | CipherBackend;

/** Options shared by both crypters for choosing the AES-GCM implementation. */
export interface BackendOptions {
  /**
   * Which AES-GCM implementation to use. `"auto"` uses node:crypto's native AES-GCM on Node
   * (>= 20.16, through `process.getBuiltinModule`); without it, pure JS for inputs smaller than
   * `webCryptoThreshold` and WebCrypto for larger ones, and pure JS everywhere when
   * `globalThis.crypto.subtle` is missing.
   * @default "auto"
   */
  backend?: CipherBackendOption;
  /**
   * Size in bytes (plaintext when sealing, ciphertext when opening) from which `"auto"` uses
   * WebCrypto when node:crypto is not available.
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
  readonly #native: NodeCrypto | undefined;

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
    this.#native = option === "auto" ? loadNodeCrypto() : undefined;
  }

  /**
   * The engine for a message of `size` bytes. `"auto"` on Node: native node:crypto at every size
   * (a few µs per call, and under 1 ms per 256 KiB segment, so the per-slice bound holds).
   */
  pick(size: number): Engine {
    if (this.#option !== "auto") return this.#option;
    if (this.#native !== undefined) return this.#native;
    return size >= this.#threshold && hasWebCrypto() ? "webcrypto" : "js";
  }
}

/** A picked engine: a noble backend by name, or the node:crypto module itself. */
export type Engine = CipherBackend | NodeCrypto;

/** The name of a picked engine (what {@link CipherEngine} says). */
export function engineName(engine: Engine): CipherEngine {
  return typeof engine === "string" ? engine : "node";
}

function nodeAlgorithm(key: Uint8Array): string {
  return `aes-${key.length * 8}-gcm`;
}

/** AES-GCM seal: returns `ciphertext || tag(16)`. The nonce must already be validated as 12 bytes. */
export async function gcmSeal(
  backend: Engine,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  await gcmSealInto(backend, key, nonce, aad, plaintext, out, 0);
  return out;
}

/**
 * AES-GCM seal into `out[offset..offset + plaintext.length + 16)` (ciphertext, then tag), so the
 * envelope is built in one buffer: header first, then this (no second copy of the ciphertext,
 * and no header buffer of its own: a typed array over 64 bytes lives outside V8's heap and
 * costs ~0.8 µs to allocate here, ten times a small one). The nonce must already be validated
 * as 12 bytes.
 */
export async function gcmSealInto(
  backend: Engine,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): Promise<void> {
  if (out.length - offset < plaintext.length + TAG_LENGTH) {
    throw new InvalidArgumentError(
      `seal output expected ${plaintext.length + TAG_LENGTH} bytes from offset ${offset}, got ${out.length - offset}`,
    );
  }
  if (typeof backend !== "string") {
    nodeSealInto(backend, key, nonce, aad, plaintext, out, offset);
    return;
  }
  const sealed =
    backend === "webcrypto"
      ? await gcmWebCrypto(key, nonce, aad).encrypt(plaintext)
      : gcmJs(key, nonce, aad).encrypt(plaintext);
  out.set(sealed, offset);
}

function nodeSealInto(
  node: NodeCrypto,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const cipher = node.createCipheriv(nodeAlgorithm(key), key, nonce, { authTagLength: TAG_LENGTH });
  if (aad !== undefined) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  out.set(body, offset);
  const rest = cipher.final();
  out.set(rest, offset + body.length);
  out.set(cipher.getAuthTag(), offset + plaintext.length);
}

function nodeOpen(
  node: NodeCrypto,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  sealed: Uint8Array,
): Uint8Array {
  if (sealed.length < TAG_LENGTH) throw new Error(`sealed input of ${sealed.length} bytes is shorter than the tag`);
  const length = sealed.length - TAG_LENGTH;
  const decipher = node.createDecipheriv(nodeAlgorithm(key), key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(sealed.subarray(length));
  if (aad !== undefined) decipher.setAAD(aad);
  const body = decipher.update(sealed.subarray(0, length));
  try {
    decipher.final();
  } catch (error) {
    // Unverified plaintext never leaves: wipe it before reporting the failure.
    body.fill(0);
    throw error;
  }
  // When the plaintext owns its memory it is handed over as a plain Uint8Array view (no 4 KiB
  // copy per open); a view into a shared buffer is copied so callers never see (or wipe)
  // bytes beyond it.
  if (body.byteOffset === 0 && body.buffer.byteLength === body.length) return new Uint8Array(body.buffer, 0, length);
  const out = new Uint8Array(body);
  body.fill(0);
  return out;
}

/**
 * AES-GCM open of ciphertext || tag(16). Every failure of the primitive (a wrong tag, in
 * practice) becomes an {@link AuthenticationError}: callers never see plaintext that did not verify.
 */
export async function gcmOpen(
  backend: Engine,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  try {
    if (typeof backend !== "string") return nodeOpen(backend, key, nonce, aad, sealed);
    if (backend === "webcrypto") return await gcmWebCrypto(key, nonce, aad).decrypt(sealed);
    return gcmJs(key, nonce, aad).decrypt(sealed);
  } catch (cause) {
    throw new AuthenticationError(undefined, { cause });
  }
}
