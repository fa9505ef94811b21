import { randomBytes } from "@noble/ciphers/utils.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { InvalidArgumentError, KdfParamsError } from "./errors.ts";
import { assertWellFormed, describe } from "./key-material.ts";

/** scrypt parameters and salt: everything needed to derive the same key again. Store it beside the data. */
export interface ScryptParams {
  readonly algorithm: "scrypt";
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
  /** Random per-passphrase salt, 16 to 64 bytes. */
  readonly salt: Uint8Array;
}

/** Cost options for {@link createScryptParams}. */
export interface ScryptCostOptions {
  /** @default 131072 (2^17) */
  N?: number;
  /** @default 8 */
  r?: number;
  /** @default 1 */
  p?: number;
  /** Salt length in bytes. @default 16 */
  saltLength?: number;
}

/**
 * Accepted scrypt range. The floor is OWASP's Password Storage Cheat Sheet (N=2^17,r=8,p=1, or
 * the equal-cost N=2^13..2^16 with p=10..2, i.e. N·r·p ≥ 655360); the ceilings stop a hostile
 * params file from making a reader allocate gigabytes or spin for minutes (age's advice:
 * "SHOULD apply an upper limit to the work factor").
 */
export const SCRYPT_LIMITS: {
  readonly minLog2N: number;
  readonly maxLog2N: number;
  readonly minR: number;
  readonly maxR: number;
  readonly maxP: number;
  readonly minWork: number;
  readonly maxWork: number;
  readonly maxMemoryBytes: number;
  readonly minSaltLength: number;
  readonly maxSaltLength: number;
} = Object.freeze({
  minLog2N: 13,
  maxLog2N: 20,
  minR: 8,
  maxR: 32,
  maxP: 16,
  minWork: 655_360, // N·r·p
  maxWork: 2 ** 26, // 64× the default's N·r·p
  maxMemoryBytes: 2 ** 29, // 128·N·r ≤ 512 MiB
  minSaltLength: 16,
  maxSaltLength: 64,
});

const MAX_SERIALIZED_LENGTH = 1024;
const KEY_LENGTH = 32;

/**
 * New scrypt parameters with a fresh random salt, at OWASP's recommended cost by default.
 * @throws KdfParamsError (`BAD_KDF_PARAMS`) when the cost is outside {@link SCRYPT_LIMITS}.
 */
export function createScryptParams(options: ScryptCostOptions = {}): ScryptParams {
  return validateScryptParams({
    algorithm: "scrypt",
    N: options.N ?? 2 ** 17,
    r: options.r ?? 8,
    p: options.p ?? 1,
    salt: randomBytes(options.saltLength ?? 16),
  });
}

/**
 * Checks parameters read from anywhere (a file, an env var) against {@link SCRYPT_LIMITS}
 * before any memory is allocated for them.
 * @throws KdfParamsError (`BAD_KDF_PARAMS`)
 */
export function validateScryptParams(params: unknown): ScryptParams {
  if (typeof params !== "object" || params === null)
    throw new KdfParamsError(`kdf params expected an object, got ${describe(params)}`);
  const { algorithm, N, r, p, salt } = params as Record<string, unknown>;
  const L = SCRYPT_LIMITS;
  if (algorithm !== "scrypt")
    throw new KdfParamsError(`kdf algorithm expected "scrypt", got ${JSON.stringify(algorithm) ?? "undefined"}`);
  if (!isInt(N) || N < 2 ** L.minLog2N || N > 2 ** L.maxLog2N || (N & (N - 1)) !== 0) {
    throw new KdfParamsError(`scrypt N expected a power of two in 2^${L.minLog2N}..2^${L.maxLog2N}, got ${String(N)}`);
  }
  if (!isInt(r) || r < L.minR || r > L.maxR)
    throw new KdfParamsError(`scrypt r expected an integer in ${L.minR}..${L.maxR}, got ${String(r)}`);
  if (!isInt(p) || p < 1 || p > L.maxP)
    throw new KdfParamsError(`scrypt p expected an integer in 1..${L.maxP}, got ${String(p)}`);
  const work = N * r * p;
  if (work < L.minWork) {
    throw new KdfParamsError(`scrypt cost N*r*p=${work} is below OWASP's minimum ${L.minWork} (e.g. N=2^17, r=8, p=1)`);
  }
  if (work > L.maxWork) throw new KdfParamsError(`scrypt cost N*r*p=${work} exceeds the limit ${L.maxWork}`);
  if (128 * N * r > L.maxMemoryBytes) {
    throw new KdfParamsError(`scrypt memory 128*N*r=${128 * N * r} bytes exceeds the limit ${L.maxMemoryBytes}`);
  }
  if (!(salt instanceof Uint8Array) || salt.length < L.minSaltLength || salt.length > L.maxSaltLength) {
    const got = salt instanceof Uint8Array ? `${salt.length} bytes` : describe(salt);
    throw new KdfParamsError(`scrypt salt expected ${L.minSaltLength}..${L.maxSaltLength} bytes, got ${got}`);
  }
  return Object.freeze({ algorithm: "scrypt", N, r, p, salt: Uint8Array.from(salt) });
}

/** One-line JSON for storing the parameters: `{"kdf":"scrypt","N":131072,"r":8,"p":1,"salt":"<base64>"}`. */
export function serializeScryptParams(params: ScryptParams): string {
  const valid = validateScryptParams(params);
  return JSON.stringify({ kdf: "scrypt", N: valid.N, r: valid.r, p: valid.p, salt: toBase64(valid.salt) });
}

/**
 * Reads what {@link serializeScryptParams} wrote, refusing anything malformed or out of
 * {@link SCRYPT_LIMITS} (a hostile `N: 2^30` never reaches scrypt).
 * @throws KdfParamsError (`BAD_KDF_PARAMS`)
 */
export function parseScryptParams(text: string): ScryptParams {
  if (typeof text !== "string") throw new KdfParamsError(`kdf params expected a string, got ${describe(text)}`);
  if (text.length > MAX_SERIALIZED_LENGTH)
    throw new KdfParamsError(`kdf params longer than ${MAX_SERIALIZED_LENGTH} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new KdfParamsError(`kdf params are not valid JSON: ${(cause as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new KdfParamsError("kdf params expected a JSON object");
  const { kdf, N, r, p, salt } = raw as Record<string, unknown>;
  if (typeof salt !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(salt))
    throw new KdfParamsError("kdf params salt expected base64");
  return validateScryptParams({ algorithm: kdf, N, r, p, salt: fromBase64(salt) });
}

/**
 * Derives a 32-byte AES-256 key from a passphrase with scrypt. Runs noble's `scryptAsync`,
 * which yields to the event loop every few milliseconds instead of blocking it for the
 * ~1 s the default cost takes. The passphrase string itself cannot be wiped from memory.
 * @throws KdfParamsError (`BAD_KDF_PARAMS`) for parameters outside {@link SCRYPT_LIMITS};
 *   InvalidArgumentError (`INVALID_ARGUMENT`) for an empty passphrase or a string that is not
 *   well-formed UTF-16 (a lone surrogate would encode as U+FFFD, so many passphrases would give one key).
 */
export async function deriveKeyFromPassphrase(
  passphrase: string | Uint8Array,
  params: ScryptParams,
): Promise<Uint8Array> {
  if (typeof passphrase !== "string" && !(passphrase instanceof Uint8Array)) {
    throw new InvalidArgumentError(`passphrase expected string or Uint8Array, got ${describe(passphrase)}`);
  }
  if (passphrase.length === 0)
    throw new InvalidArgumentError("passphrase expected at least 1 character, got an empty one");
  if (typeof passphrase === "string") assertWellFormed(passphrase, "passphrase");
  const valid = validateScryptParams(params);
  return scryptAsync(passphrase, valid.salt, {
    N: valid.N,
    r: valid.r,
    p: valid.p,
    dkLen: KEY_LENGTH,
    maxmem: SCRYPT_LIMITS.maxMemoryBytes + 4096,
    asyncTick: 5,
  });
}

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch (cause) {
    throw new KdfParamsError(`kdf params salt is not valid base64: ${(cause as Error).message}`);
  }
}
