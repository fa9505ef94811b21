import { KeySizeError, InvalidArgumentError } from "./errors.ts";

/** An AES key: raw bytes, or a string taken as its UTF-8 bytes (as the reference does). */
export type KeyInput = Uint8Array | string;

const encoder = new TextEncoder();

/**
 * Returns a private copy of the key bytes, refusing any size AES does not take.
 * The copy lets a crypter zero its key on `destroy()` without touching the caller's buffer.
 */
export function keyBytes(key: KeyInput, what = "aes key"): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === "string") bytes = encoder.encode(key);
  else if (key instanceof Uint8Array) bytes = Uint8Array.from(key);
  else throw new InvalidArgumentError(`${what} expected Uint8Array or string, got ${describe(key)}`);
  if (bytes.length !== 16 && bytes.length !== 24 && bytes.length !== 32) {
    const size = bytes.length;
    bytes.fill(0);
    throw new KeySizeError(size, what);
  }
  return bytes;
}

/** Refuses anything that is not a Uint8Array with a typed error instead of noble's plain Error. */
export function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new InvalidArgumentError(`${what} expected Uint8Array, got ${describe(value)}`);
}

/** Describes a value for an error message without printing its contents (it may be a secret). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}
