import { describe, expect, expectTypeOf, it } from "vitest";
import {
  AuthenticationError,
  CryptoError,
  type CryptoErrorCode,
  InvalidArgumentError,
  KdfParamsError,
  KeySizeError,
  NotAnEnvelopeError,
  TruncatedError,
  UnknownKeyError,
  UnsupportedFormatError,
} from "./errors.ts";

// The catalogue: every code @mk/crypto can produce. A new code, a rename or a removal
// fails here (and in the type check below) and must be a deliberate, documented change.
const CATALOGUE = [
  "BAD_KEY_SIZE",
  "BAD_MAGIC",
  "TRUNCATED",
  "UNSUPPORTED_VERSION",
  "UNSUPPORTED_ALGORITHM",
  "UNKNOWN_FLAGS",
  "UNKNOWN_KEY",
  "AUTH_FAILED",
  "BAD_KDF_PARAMS",
  "INVALID_ARGUMENT",
] as const;

describe("the @mk/crypto error catalogue", () => {
  it("lists exactly the CryptoErrorCode union", () => {
    expectTypeOf<(typeof CATALOGUE)[number]>().toEqualTypeOf<CryptoErrorCode>();
  });

  it("gives each class its code and name", () => {
    const made: [CryptoError, CryptoErrorCode, string][] = [
      [new KeySizeError(15), "BAD_KEY_SIZE", "KeySizeError"],
      [new NotAnEnvelopeError(), "BAD_MAGIC", "NotAnEnvelopeError"],
      [new TruncatedError(104, 3), "TRUNCATED", "TruncatedError"],
      [new UnsupportedFormatError("UNSUPPORTED_VERSION", "v"), "UNSUPPORTED_VERSION", "UnsupportedFormatError"],
      [new UnsupportedFormatError("UNSUPPORTED_ALGORITHM", "a"), "UNSUPPORTED_ALGORITHM", "UnsupportedFormatError"],
      [new UnsupportedFormatError("UNKNOWN_FLAGS", "f"), "UNKNOWN_FLAGS", "UnsupportedFormatError"],
      [new UnknownKeyError(7, [1, 2]), "UNKNOWN_KEY", "UnknownKeyError"],
      [new AuthenticationError(), "AUTH_FAILED", "AuthenticationError"],
      [new KdfParamsError("N"), "BAD_KDF_PARAMS", "KdfParamsError"],
      [
        new InvalidArgumentError("plaintext expected Uint8Array, got string"),
        "INVALID_ARGUMENT",
        "InvalidArgumentError",
      ],
    ];
    expect(made.map(([, code]) => code)).toEqual([...CATALOGUE]);
    for (const [error, code, name] of made) {
      expect(error).toBeInstanceOf(CryptoError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
    }
  });

  it("passes the cause on", () => {
    const cause = new Error("tag mismatch");
    expect(new AuthenticationError(undefined, { cause }).cause).toBe(cause);
    expect(new CryptoError("AUTH_FAILED", "x", { cause }).cause).toBe(cause);
  });

  it("regression: one code for a bad argument, INVALID_ARGUMENT as in every mk package, not BAD_INPUT (issue 14)", () => {
    expect(CATALOGUE).not.toContain("BAD_INPUT");
    expect(new InvalidArgumentError("x").code).toBe("INVALID_ARGUMENT");
  });
});
