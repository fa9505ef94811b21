import { createCipheriv, createDecipheriv } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CryptoError } from "./errors.ts";
import { LegacyAesGcmCrypter } from "./legacy-aes-gcm-crypter.ts";

const keyArb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.uint8Array({ minLength: 24, maxLength: 24 }),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
);
const optionalAd = fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined });
const backendArb = fc.constantFrom("js", "webcrypto", "auto");

function nodeSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad?: Uint8Array): Uint8Array {
  const cipher = createCipheriv(`aes-${key.length * 8}-gcm` as "aes-128-gcm", key, nonce);
  if (ad !== undefined) cipher.setAAD(ad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function nodeOpen(key: Uint8Array, sealed: Uint8Array, ad?: Uint8Array): Uint8Array {
  const decipher = createDecipheriv(`aes-${key.length * 8}-gcm` as "aes-128-gcm", key, sealed.subarray(0, 12));
  if (ad !== undefined) decipher.setAAD(ad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Uint8Array.from(Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]));
}

describe("LegacyAesGcmCrypter (reference format)", () => {
  it("agrees with node:crypto AES-GCM both ways, for every key size and backend", async () => {
    await fc.assert(
      fc.asyncProperty(
        keyArb,
        fc.uint8Array({ maxLength: 10_000 }),
        optionalAd,
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        backendArb,
        async (key, plaintext, ad, nonce, backend) => {
          const crypter = new LegacyAesGcmCrypter(key, { backend });
          const sealed = await crypter.encrypt(plaintext, ad);
          expect(sealed.length).toBe(12 + plaintext.length + 16);
          expect(nodeOpen(key, sealed, ad)).toEqual(plaintext);
          expect(await crypter.decrypt(nodeSeal(key, nonce, plaintext, ad), ad)).toEqual(plaintext);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("any bit flip, truncation, other AD or wrong key is a CryptoError", async () => {
    const key = "1234567890123456";
    const crypter = new LegacyAesGcmCrypter(key);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(7), async (plaintext, at, bit) => {
        const sealed = await crypter.encrypt(plaintext);
        const flipped = Uint8Array.from(sealed);
        flipped[at % sealed.length] = (flipped[at % sealed.length] ?? 0) ^ (1 << bit);
        await expect(crypter.decrypt(flipped)).rejects.toMatchObject({ code: "AUTH_FAILED" });
        const cut = at % sealed.length;
        await expect(crypter.decrypt(sealed.subarray(0, cut))).rejects.toMatchObject({
          code: cut < 28 ? "TRUNCATED" : "AUTH_FAILED",
        });
        await expect(crypter.decrypt(sealed, Uint8Array.of(1))).rejects.toMatchObject({ code: "AUTH_FAILED" });
        await expect(new LegacyAesGcmCrypter("6543210987654321").decrypt(sealed)).rejects.toMatchObject({
          code: "AUTH_FAILED",
        });
      }),
      { numRuns: 150 },
    );
  });

  it("refuses bad key sizes and garbage arguments with typed errors", async () => {
    expect(() => new LegacyAesGcmCrypter("123456789012345")).toThrow("aes key expected 16, 24 or 32 bytes, got 15");
    expect(() => new LegacyAesGcmCrypter(new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: "BAD_KEY_SIZE" }),
    );
    const crypter = new LegacyAesGcmCrypter("1234567890123456");
    for (const value of [undefined, null, 3, "x", {}]) {
      await expect(crypter.decrypt(value as Uint8Array)).rejects.toBeInstanceOf(CryptoError);
      await expect(crypter.encrypt(value as Uint8Array)).rejects.toBeInstanceOf(CryptoError);
    }
  });

  it("destroy() zeroes the key and refuses later use", async () => {
    const crypter = new LegacyAesGcmCrypter("1234567890123456");
    crypter.destroy();
    await expect(crypter.encrypt(Uint8Array.of(1))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
