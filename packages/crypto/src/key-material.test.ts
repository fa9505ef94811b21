import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AesGcmCrypter } from "./aes-gcm-crypter.ts";
import { LegacyAesGcmCrypter } from "./legacy-aes-gcm-crypter.ts";
import { createScryptParams, deriveKeyFromPassphrase } from "./passphrase.ts";

const text = new TextEncoder();
const plain = text.encode('{"count":3}');

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** Whether two key inputs are the same key: one seals, the other opens. */
async function sameKey(a: string | Uint8Array, b: string | Uint8Array): Promise<boolean> {
  const sealed = await new AesGcmCrypter(a).encrypt(plain);
  try {
    await new AesGcmCrypter(b).decrypt(sealed);
    return true;
  } catch {
    return false; // AUTH_FAILED: a different key, which is what this helper reports
  }
}

describe("key strings that are not well-formed UTF-16 (issue 13 item 12)", () => {
  it("regression: two keys differing only in a lone surrogate were the same key; both are refused now", () => {
    // Each lone surrogate encodes to U+FFFD (3 bytes), so both were 16 bytes and equal.
    const a = "\ud800" + "k".repeat(13);
    const b = "\udfff" + "k".repeat(13);
    for (const key of [a, b]) {
      for (const make of [
        () => new AesGcmCrypter(key),
        () => new LegacyAesGcmCrypter(key),
        () => new AesGcmCrypter("k".repeat(16), { keyId: 2, previousKeys: [{ id: 1, key }] }),
      ]) {
        expect(make).toThrow(
          expect.objectContaining({
            code: "INVALID_ARGUMENT",
            message: expect.stringMatching(/expected a well-formed string, got a lone surrogate at index 0/),
          }),
        );
      }
    }
  });

  it("never puts the key in the message", () => {
    const key = "secret-" + "\udc00" + "xxxxxx";
    expect(() => new AesGcmCrypter(key)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("secret") }),
    );
  });

  it("accepts surrogate pairs (a well-formed string): four emoji are 16 bytes", async () => {
    expect(await sameKey("🙂🙂🙂🙂", text.encode("🙂🙂🙂🙂"))).toBe(true);
  });

  it("refuses every string with a lone surrogate, whatever its length (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string(), (before, surrogate, after) => {
        const key = before + String.fromCharCode(surrogate) + after;
        fc.pre(/\p{Surrogate}/u.test(key)); // not well-formed (it may have paired with a neighbour)
        expect(() => new AesGcmCrypter(key)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
      }),
    );
  });

  it("regression: a passphrase with a lone surrogate gave the same key as any other lone surrogate; refused now", async () => {
    // Cheapest parameters the limits allow: the refusal comes before scrypt anyway.
    const params = createScryptParams({ N: 2 ** 13, r: 8, p: 10 });
    for (const passphrase of ["pass\ud800word", "pass\udbffword", "\udc00"]) {
      await expect(deriveKeyFromPassphrase(passphrase, params)).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining("passphrase expected a well-formed string"),
      });
    }
  });
});

describe('"hex:" and "base64:" key strings (issue 13 item 13)', () => {
  it('regression: "hex:" and 28 hex digits was silently a 32-byte UTF-8 key; now it is parsed, and 14 bytes are refused', () => {
    const key = "hex:" + "ab".repeat(14); // 32 characters
    expect(() => new AesGcmCrypter(key)).toThrow(
      expect.objectContaining({
        code: "BAD_KEY_SIZE",
        message: expect.stringContaining('aes key expected 16, 24 or 32 bytes, got 14 ("hex:" form)'),
      }),
    );
    expect(() => new LegacyAesGcmCrypter(key)).toThrow(expect.objectContaining({ code: "BAD_KEY_SIZE" }));
  });

  it('takes the key the demo teaches: "hex:<64 hex digits>" and "base64:<32 bytes>" are those bytes', async () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
    expect(await sameKey(bytes, "hex:" + hex(bytes))).toBe(true);
    expect(await sameKey(bytes, "hex:" + hex(bytes).toUpperCase())).toBe(true);
    expect(await sameKey(bytes, "base64:" + base64(bytes))).toBe(true);
    expect(await sameKey("hex:" + hex(bytes), bytes)).toBe(true);
    // And not the UTF-8 bytes of the text, as before.
    expect(await sameKey(text.encode("hex:" + hex(bytes)).subarray(0, 32), "hex:" + hex(bytes))).toBe(false);
  });

  it("gives the same key in every form, for 16, 24 and 32 random bytes, standard and URL-safe base64, padded or not (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        async (bytes) => {
          const b64 = base64(bytes);
          const url = b64.replace(/\+/g, "-").replace(/\//g, "_");
          const sealed = await new AesGcmCrypter(bytes).encrypt(plain);
          for (const form of [
            "hex:" + hex(bytes),
            "base64:" + b64,
            "base64:" + b64.replace(/=+$/, ""),
            "base64:" + url.replace(/=+$/, ""),
          ]) {
            expect(await new AesGcmCrypter(form).decrypt(sealed)).toEqual(plain);
            const legacy = await new LegacyAesGcmCrypter(bytes).encrypt(plain);
            expect(await new LegacyAesGcmCrypter(form).decrypt(legacy)).toEqual(plain);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("refuses a prefix followed by something that is not hex or base64, with INVALID_ARGUMENT", () => {
    for (const key of [
      "hex:xyz",
      "hex:abc",
      "hex:" + "g".repeat(64),
      "base64:***",
      "base64:A",
      "base64:AB=C",
      "base64:ab+_cd==",
      "base64:AAA==",
    ]) {
      expect(() => new AesGcmCrypter(key), key).toThrow(
        expect.objectContaining({
          code: "INVALID_ARGUMENT",
          message: expect.stringMatching(/^aes key "(hex|base64):" expected/),
        }),
      );
    }
  });

  it("a wrong-size key names deriveKeyFromPassphrase for passphrases", () => {
    for (const key of ["correct horse battery staple", new Uint8Array(7), "hex:abcd", "base64:AAAA"]) {
      expect(() => new AesGcmCrypter(key)).toThrow(
        expect.objectContaining({
          code: "BAD_KEY_SIZE",
          message: expect.stringContaining(
            "a passphrase is not a key: derive one with deriveKeyFromPassphrase(passphrase, createScryptParams())",
          ),
        }),
      );
    }
  });

  it("still takes any other 16, 24 or 32-byte string as its UTF-8 bytes (the reference's form)", async () => {
    expect(await sameKey("1234567890123456", text.encode("1234567890123456"))).toBe(true);
    expect(await sameKey("hexadecimal-key-0123456789abcdef", text.encode("hexadecimal-key-0123456789abcdef"))).toBe(
      true,
    );
  });
});
