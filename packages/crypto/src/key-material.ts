import { InvalidArgumentError, KeySizeError } from "./errors.ts";

/**
 * An AES key: raw bytes, or a string. A string is `hex:<hex digits>`, `base64:<base64>`
 * (standard or URL-safe alphabet, padding optional), or otherwise taken as its UTF-8 bytes
 * (as the Go reference does, e.g. `"1234567890123456"`). Each must give 16, 24 or 32 bytes.
 */
export type KeyInput = Uint8Array | string;

const encoder = new TextEncoder();
/**
 * Returns a private copy of the key bytes, refusing any size AES does not take.
 * The copy lets a crypter zero its key on `destroy()` without touching the caller's buffer.
 * @throws KeySizeError (`BAD_KEY_SIZE`) for a size other than 16, 24 or 32 bytes;
 *   InvalidArgumentError (`INVALID_ARGUMENT`) for a value that is not a key, a string that is not
 *   well-formed UTF-16, or a `hex:`/`base64:` string whose rest is not hex/base64.
 */
export function keyBytes(key: KeyInput, what = "aes key"): Uint8Array {
  let bytes: Uint8Array;
  let form = "";
  if (typeof key === "string") {
    assertWellFormed(key, what);
    if (key.startsWith("hex:")) {
      bytes = fromHex(key.slice(4), what);
      form = ' ("hex:" form)';
    } else if (key.startsWith("base64:")) {
      bytes = fromBase64(key.slice(7), what);
      form = ' ("base64:" form)';
    } else {
      bytes = encoder.encode(key);
      form = " (a string is its UTF-8 bytes)";
    }
  } else if (key instanceof Uint8Array) bytes = Uint8Array.from(key);
  else throw new InvalidArgumentError(`${what} expected Uint8Array or string, got ${describe(key)}`);
  if (bytes.length !== 16 && bytes.length !== 24 && bytes.length !== 32) {
    const size = bytes.length;
    bytes.fill(0);
    throw new KeySizeError(size, what, form);
  }
  return bytes;
}

// A lone surrogate encodes to U+FFFD, so different strings would give the same key.
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Refuses a string that is not well-formed UTF-16 (`String.prototype.isWellFormed`): each of
 * its lone surrogates would become U+FFFD in UTF-8, so many different strings would give the
 * same bytes. Says where, never what (the string is a secret).
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`)
 */
export function assertWellFormed(text: string, what: string): void {
  const lone = LONE_SURROGATE.exec(text);
  if (lone !== null) {
    throw new InvalidArgumentError(
      `${what} expected a well-formed string, got a lone surrogate at index ${lone.index}: ` +
        "it would encode as U+FFFD, so different strings would give the same key",
    );
  }
}

function fromHex(digits: string, what: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) {
    throw new InvalidArgumentError(
      `${what} "hex:" expected an even number of hex digits (32, 48 or 64) after the prefix, got ${digits.length} characters that are not`,
    );
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function fromBase64(text: string, what: string): Uint8Array {
  // One alphabet or the other (standard, or URL-safe), padding optional but only at the end.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) && !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw base64Error(what, text);
  const unpadded = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const padded = text.length !== unpadded.length;
  if (unpadded.length % 4 === 1 || (padded && text.length % 4 !== 0)) throw base64Error(what, text);
  const binary = atob(unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function base64Error(what: string, text: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${what} "base64:" expected base64 of 16, 24 or 32 bytes after the prefix, got ${text.length} characters that are not base64`,
  );
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
