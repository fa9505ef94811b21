/**
 * Every failure of `@mk/crypto` is a {@link CryptoError} with a stable `code`.
 * Callers branch on `code` (or on the subclass), never on the message text.
 */
export type CryptoErrorCode =
  | "BAD_KEY_SIZE"
  | "BAD_MAGIC"
  | "TRUNCATED"
  | "UNSUPPORTED_VERSION"
  | "UNSUPPORTED_ALGORITHM"
  | "UNKNOWN_FLAGS"
  | "UNKNOWN_KEY"
  | "AUTH_FAILED"
  | "BAD_KDF_PARAMS"
  | "INVALID_ARGUMENT";

/** Base class of every error thrown or rejected by `@mk/crypto`. */
export class CryptoError extends Error {
  /** Stable machine-readable reason; see the errors table in the README. */
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CryptoError";
    this.code = code;
  }
}

/**
 * A key is not 16, 24 or 32 bytes (code `BAD_KEY_SIZE`). The message says how to get a key of
 * the right size, naming `deriveKeyFromPassphrase` for a passphrase.
 */
export class KeySizeError extends CryptoError {
  /** The size that was given, in bytes. */
  readonly size: number;

  /** @param form how the bytes were read, e.g. ` ("hex:" form)`, said after the size. */
  constructor(size: number, what = "aes key", form = "") {
    super(
      "BAD_KEY_SIZE",
      `${what} expected 16, 24 or 32 bytes, got ${size}${form}; a passphrase is not a key: derive one with ` +
        'deriveKeyFromPassphrase(passphrase, createScryptParams()), or give random bytes as a Uint8Array, "hex:<64 hex digits>" or "base64:<32 bytes>"',
    );
    this.name = "KeySizeError";
    this.size = size;
  }
}

/** The input does not start with the mk envelope magic (code `BAD_MAGIC`). */
export class NotAnEnvelopeError extends CryptoError {
  constructor(message = "not an mk envelope: expected magic 0x89 'M' 'K' 'C'") {
    super("BAD_MAGIC", message);
    this.name = "NotAnEnvelopeError";
  }
}

/** The input is shorter than its format requires (code `TRUNCATED`). */
export class TruncatedError extends CryptoError {
  constructor(expected: number, got: number, what = "ciphertext") {
    super("TRUNCATED", `${what} truncated: expected at least ${expected} bytes, got ${got}`);
    this.name = "TruncatedError";
  }
}

/**
 * The envelope names a version, algorithm or flags this build does not know
 * (codes `UNSUPPORTED_VERSION`, `UNSUPPORTED_ALGORITHM`, `UNKNOWN_FLAGS`).
 * Refusing rather than guessing is what prevents downgrades.
 */
export class UnsupportedFormatError extends CryptoError {
  constructor(code: "UNSUPPORTED_VERSION" | "UNSUPPORTED_ALGORITHM" | "UNKNOWN_FLAGS", message: string) {
    super(code, message);
    this.name = "UnsupportedFormatError";
  }
}

/** The envelope names a key id that is not in the keyring (code `UNKNOWN_KEY`). */
export class UnknownKeyError extends CryptoError {
  /** The key id read from the envelope header. */
  readonly keyId: number;

  constructor(keyId: number, known: readonly number[]) {
    super(
      "UNKNOWN_KEY",
      `unknown key id 0x${hex32(keyId)}: expected one of ${known.map((id) => "0x" + hex32(id)).join(", ") || "(none)"}`,
    );
    this.name = "UnknownKeyError";
    this.keyId = keyId;
  }
}

/**
 * Authentication failed: wrong key, other associated data, or the bytes were
 * changed (code `AUTH_FAILED`). No plaintext is ever returned in that case.
 */
export class AuthenticationError extends CryptoError {
  constructor(
    message = "authentication failed: wrong key, wrong associated data, or tampered ciphertext",
    options?: { cause?: unknown },
  ) {
    super("AUTH_FAILED", message, options);
    this.name = "AuthenticationError";
  }
}

/** Passphrase KDF parameters are out of the accepted range (code `BAD_KDF_PARAMS`). */
export class KdfParamsError extends CryptoError {
  constructor(message: string) {
    super("BAD_KDF_PARAMS", message);
    this.name = "KdfParamsError";
  }
}

/** An argument has the wrong type or shape (code `INVALID_ARGUMENT`). */
export class InvalidArgumentError extends CryptoError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
    this.name = "InvalidArgumentError";
  }
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
