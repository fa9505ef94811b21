import { hkdfSync } from "node:crypto";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COMMITMENT_LENGTH, INFO_LENGTH } from "./envelope-format.ts";
import { CryptoError } from "./errors.ts";
import { EXTRACT_SALT, OKM_LENGTH, SUBKEY_LENGTH, SubkeyDeriver, constantTimeEqualAt } from "./subkey.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const master = fc.oneof(...[16, 24, 32].map((n) => fc.uint8Array({ minLength: n, maxLength: n })));
const info = fc.uint8Array({ minLength: INFO_LENGTH, maxLength: INFO_LENGTH });

describe("SubkeyDeriver", () => {
  it("is HKDF-SHA256(master, EXTRACT_SALT, info, 64): equal to noble's hkdf and node:crypto's hkdfSync", () => {
    fc.assert(
      fc.property(master, info, (key, bytes) => {
        const okm = new SubkeyDeriver(Uint8Array.from(key)).derive(bytes);
        expect(okm.length).toBe(OKM_LENGTH);
        expect(SUBKEY_LENGTH + COMMITMENT_LENGTH).toBe(OKM_LENGTH);
        expect(hex(okm)).toBe(hex(hkdf(sha256, key, EXTRACT_SALT, bytes, OKM_LENGTH)));
        expect(hex(okm)).toBe(hex(new Uint8Array(hkdfSync("sha256", key, EXTRACT_SALT, bytes, OKM_LENGTH))));
      }),
      { numRuns: 200 },
    );
  });

  it("gives the same output on every call (the reused scratch leaks nothing between derivations)", () => {
    fc.assert(
      fc.property(master, fc.array(info, { minLength: 2, maxLength: 6 }), (key, infos) => {
        const deriver = new SubkeyDeriver(Uint8Array.from(key));
        const first = infos.map((bytes) => hex(deriver.derive(bytes)));
        const again = [...infos].reverse().map((bytes) => hex(deriver.derive(bytes)));
        expect(again.reverse()).toEqual(first);
      }),
      { numRuns: 50 },
    );
  });

  it("reads the info as header[0..44) of a longer envelope, in place, and refuses anything shorter", () => {
    const deriver = new SubkeyDeriver(new Uint8Array(32).fill(7));
    const envelope = Uint8Array.from({ length: 200 }, (_, i) => i);
    expect(hex(deriver.derive(envelope))).toBe(hex(deriver.derive(envelope.slice(0, INFO_LENGTH))));
    expect(() => deriver.derive(envelope.subarray(0, INFO_LENGTH - 1))).toThrow(/expected 44 bytes, got 43/);
  });

  it("keeps no reference to the master key it was given", () => {
    const key = new Uint8Array(32).fill(3);
    const deriver = new SubkeyDeriver(key);
    const before = hex(deriver.derive(new Uint8Array(INFO_LENGTH)));
    key.fill(0);
    expect(hex(deriver.derive(new Uint8Array(INFO_LENGTH)))).toBe(before);
  });

  it("destroy() makes it unusable: derive throws INVALID_ARGUMENT instead of deriving from zeroed state", () => {
    const deriver = new SubkeyDeriver(new Uint8Array(16).fill(1));
    deriver.derive(new Uint8Array(INFO_LENGTH));
    deriver.destroy();
    let thrown: unknown;
    try {
      deriver.derive(new Uint8Array(INFO_LENGTH));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CryptoError);
    expect(thrown).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/destroyed/) });
  });
});

describe("constantTimeEqualAt", () => {
  const a = Uint8Array.of(9, 1, 2, 3);
  const b = Uint8Array.of(0, 0, 1, 2, 3);

  it("compares a[aOffset..+length) with b[bOffset..+length)", () => {
    expect(constantTimeEqualAt(a, 1, b, 2, 3)).toBe(true);
    expect(constantTimeEqualAt(a, 0, b, 1, 4)).toBe(false);
    expect(constantTimeEqualAt(a, 1, Uint8Array.of(0, 0, 1, 2, 4), 2, 3)).toBe(false);
  });

  it("is false (not a partial match) when either side is too short at its offset", () => {
    expect(constantTimeEqualAt(a, 1, b, 3, 3)).toBe(false);
    expect(constantTimeEqualAt(a, 2, b, 2, 3)).toBe(false);
    expect(constantTimeEqualAt(a, -1, b, 2, 3)).toBe(false);
  });
});
