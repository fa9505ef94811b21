import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeOpenEnvelope } from "../test/helpers.ts";
import { AesGcmCrypter } from "./aes-gcm-crypter.ts";
import { HEADER_LENGTH, MIN_ENVELOPE_LENGTH, OFFSET_KEY_ID } from "./envelope-format.ts";
import { CryptoError } from "./errors.ts";

const key16 = "1234567890123456";
const key32 = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const bytes = (max = 3000): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const optionalAd = fc.option(bytes(200), { nil: undefined });
const keyArb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.uint8Array({ minLength: 24, maxLength: 24 }),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
);

async function rejection(promise: Promise<unknown>): Promise<CryptoError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }
  throw new Error("expected a rejection, got plaintext");
}

/** The code a single-bit flip at `offset` must produce (README "errors by region"). */
function expectedFlipCode(offset: number): string[] {
  if (offset < 4) return ["BAD_MAGIC"];
  if (offset === 4) return ["UNSUPPORTED_VERSION"];
  if (offset === 5) return ["UNSUPPORTED_ALGORITHM"];
  if (offset < 8) return ["UNKNOWN_FLAGS"];
  if (offset < 12) return ["UNKNOWN_KEY"];
  return ["AUTH_FAILED"];
}

describe("AesGcmCrypter", () => {
  it("roundtrips any plaintext and associated data, under any key size, on every backend", async () => {
    await fc.assert(
      fc.asyncProperty(
        keyArb,
        bytes(),
        optionalAd,
        fc.constantFrom("js", "webcrypto", "auto"),
        async (key, plaintext, ad, backend) => {
          const crypter = new AesGcmCrypter(key, { backend });
          const sealed = await crypter.encrypt(plaintext, ad);
          expect(sealed.length).toBe(plaintext.length + MIN_ENVELOPE_LENGTH);
          expect(await crypter.decrypt(sealed, ad)).toEqual(plaintext);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("what one backend seals the other opens (and node:crypto opens it too)", async () => {
    const js = new AesGcmCrypter(key32, { backend: "js" });
    const web = new AesGcmCrypter(key32, { backend: "webcrypto" });
    await fc.assert(
      fc.asyncProperty(bytes(20_000), optionalAd, async (plaintext, ad) => {
        expect(await web.decrypt(await js.encrypt(plaintext, ad), ad)).toEqual(plaintext);
        const fromWeb = await web.encrypt(plaintext, ad);
        expect(await js.decrypt(fromWeb, ad)).toEqual(plaintext);
        expect(nodeOpenEnvelope(key32, fromWeb, ad)).toEqual(plaintext);
      }),
      { numRuns: 40 },
    );
  });

  it("never seals two messages alike: fresh salt and nonce each time", async () => {
    const crypter = new AesGcmCrypter(key16);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const sealed = await crypter.encrypt(new Uint8Array(0));
      seen.add(Buffer.from(sealed.subarray(12, 56)).toString("hex"));
    }
    expect(seen.size).toBe(200);
  });

  it("treats absent and empty associated data alike (both are zero bytes)", async () => {
    const crypter = new AesGcmCrypter(key16);
    expect(await crypter.decrypt(await crypter.encrypt(Uint8Array.of(1)), new Uint8Array(0))).toEqual(Uint8Array.of(1));
  });

  it("any single-bit flip anywhere is refused with the code of the region it hit", async () => {
    const crypter = new AesGcmCrypter(key16);
    await fc.assert(
      fc.asyncProperty(bytes(300), optionalAd, fc.nat(), fc.nat(7), async (plaintext, ad, at, bit) => {
        const sealed = await crypter.encrypt(plaintext, ad);
        const offset = at % sealed.length;
        sealed[offset] = (sealed[offset] ?? 0) ^ (1 << bit);
        const error = await rejection(crypter.decrypt(sealed, ad));
        expect(expectedFlipCode(offset)).toContain(error.code);
      }),
      { numRuns: 400 },
    );
  });

  it("flips every bit of one envelope, exhaustively", async () => {
    const crypter = new AesGcmCrypter(key16, { backend: "js" });
    const ad = new TextEncoder().encode("echo");
    const sealed = await crypter.encrypt(new TextEncoder().encode('{"count":3}'), ad);
    for (let offset = 0; offset < sealed.length; offset++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Uint8Array.from(sealed);
        copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
        const error = await rejection(crypter.decrypt(copy, ad));
        expect(expectedFlipCode(offset)).toContain(error.code);
      }
    }
  });

  it("any truncation is refused: TRUNCATED below the minimum size, AUTH_FAILED above it", async () => {
    const crypter = new AesGcmCrypter(key16);
    await fc.assert(
      fc.asyncProperty(bytes(300), fc.nat(), async (plaintext, cut) => {
        const sealed = await crypter.encrypt(plaintext);
        const length = cut % sealed.length;
        const error = await rejection(crypter.decrypt(sealed.subarray(0, length)));
        expect(error.code).toBe(length < MIN_ENVELOPE_LENGTH ? "TRUNCATED" : "AUTH_FAILED");
      }),
      { numRuns: 200 },
    );
  });

  it("trailing bytes are refused (AUTH_FAILED)", async () => {
    const crypter = new AesGcmCrypter(key16);
    const sealed = await crypter.encrypt(Uint8Array.of(1, 2, 3));
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    expect((await rejection(crypter.decrypt(longer))).code).toBe("AUTH_FAILED");
  });

  it("other associated data is refused (AUTH_FAILED)", async () => {
    const crypter = new AesGcmCrypter(key16);
    await fc.assert(
      fc.asyncProperty(bytes(200), optionalAd, optionalAd, async (plaintext, ad, other) => {
        fc.pre((ad?.length ?? 0) !== (other?.length ?? 0) || !Buffer.from(ad ?? []).equals(Buffer.from(other ?? [])));
        const sealed = await crypter.encrypt(plaintext, ad);
        expect((await rejection(crypter.decrypt(sealed, other))).code).toBe("AUTH_FAILED");
      }),
      { numRuns: 150 },
    );
  });

  it("a wrong key under the same key id fails the commitment (AUTH_FAILED), before any AES work", async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, keyArb, bytes(200), async (key, other, plaintext) => {
        fc.pre(!Buffer.from(key).equals(Buffer.from(other)));
        const sealed = await new AesGcmCrypter(key).encrypt(plaintext);
        const error = await rejection(new AesGcmCrypter(other).decrypt(sealed));
        expect(error.code).toBe("AUTH_FAILED");
        expect(error.message).toMatch(/key commitment mismatch/);
      }),
      { numRuns: 100 },
    );
  });

  it("refuses keys of any size but 16, 24 and 32 bytes with BAD_KEY_SIZE", () => {
    fc.assert(
      fc.property(fc.nat(80), (size) => {
        fc.pre(size !== 16 && size !== 24 && size !== 32);
        expect(() => new AesGcmCrypter(new Uint8Array(size))).toThrow(
          expect.objectContaining({
            code: "BAD_KEY_SIZE",
            message: expect.stringContaining(`aes key expected 16, 24 or 32 bytes, got ${size};`),
          }),
        );
      }),
    );
    expect(() => new AesGcmCrypter("123456789012345")).toThrow("aes key expected 16, 24 or 32 bytes, got 15");
    // A string is its UTF-8 bytes: 8 two-byte characters are a 16-byte key.
    expect(() => new AesGcmCrypter("éééééééé")).not.toThrow();
  });

  it("refuses garbage arguments with a typed error, never a TypeError", async () => {
    const crypter = new AesGcmCrypter(key16);
    const garbage: unknown[] = [undefined, null, 1, "text", [1, 2], {}, new ArrayBuffer(8), new Uint16Array(4)];
    for (const value of garbage) {
      expect(() => new AesGcmCrypter(value as Uint8Array)).toThrow(CryptoError);
      await expect(crypter.encrypt(value as Uint8Array)).rejects.toBeInstanceOf(CryptoError);
      await expect(crypter.decrypt(value as Uint8Array)).rejects.toBeInstanceOf(CryptoError);
      if (value !== undefined)
        await expect(crypter.encrypt(Uint8Array.of(1), value as Uint8Array)).rejects.toBeInstanceOf(CryptoError);
    }
    expect(() => new AesGcmCrypter(key16, { backend: "fast" as "js" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => new AesGcmCrypter(key16, { webCryptoThreshold: -1 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => new AesGcmCrypter(key16, null as unknown as object)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => new AesGcmCrypter(key16, { previousKeys: "x" as unknown as [] })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("refuses random garbage and all-zero files without returning plaintext", async () => {
    const crypter = new AesGcmCrypter(key16);
    await fc.assert(
      fc.asyncProperty(bytes(400), async (garbage) => {
        await rejection(crypter.decrypt(garbage));
      }),
      { numRuns: 300 },
    );
    expect((await rejection(crypter.decrypt(new Uint8Array(200)))).code).toBe("BAD_MAGIC");
    expect((await rejection(crypter.decrypt(new Uint8Array(0)))).code).toBe("TRUNCATED");
  });

  it("seals big inputs (1 MiB) through the size-picked backend", async () => {
    const crypter = new AesGcmCrypter(key32);
    const plaintext = new Uint8Array(1 << 20).map((_, i) => i);
    const sealed = await crypter.encrypt(plaintext);
    // Buffer.equals: vitest's deep equality walks a 1 MiB array element by element.
    expect(Buffer.from(nodeOpenEnvelope(key32, sealed)).equals(plaintext)).toBe(true);
    expect(Buffer.from(await crypter.decrypt(sealed)).equals(plaintext)).toBe(true);
    expect(sealed.subarray(HEADER_LENGTH, HEADER_LENGTH + 16)).not.toEqual(plaintext.subarray(0, 16));
  });

  it("destroy() zeroes the keys and refuses later use", async () => {
    const crypter = new AesGcmCrypter(key16);
    const sealed = await crypter.encrypt(Uint8Array.of(1));
    crypter.destroy();
    await expect(crypter.encrypt(Uint8Array.of(1))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(crypter.decrypt(sealed)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("opens unaligned views and pooled Buffers (non-zero byteOffset) on every backend", async () => {
    for (const backend of ["js", "webcrypto"] as const) {
      const crypter = new AesGcmCrypter(key16, { backend });
      const plaintext = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
      const sealed = await crypter.encrypt(plaintext.subarray(3), Uint8Array.of(9, 9, 9).subarray(1));
      const shifted = new Uint8Array(sealed.length + 7);
      shifted.set(sealed, 7);
      expect(await crypter.decrypt(shifted.subarray(7), Uint8Array.of(9, 9))).toEqual(plaintext.subarray(3));
      expect(await crypter.decrypt(Buffer.from(sealed), Buffer.from([9, 9]))).toEqual(plaintext.subarray(3));
    }
  });

  it("many concurrent seals and opens on both backends do not interfere", async () => {
    const crypter = new AesGcmCrypter(key32, { webCryptoThreshold: 1000 });
    const inputs = Array.from({ length: 64 }, (_, i) => new Uint8Array(i * 37).fill(i));
    const sealed = await Promise.all(inputs.map((p, i) => crypter.encrypt(p, Uint8Array.of(i))));
    const opened = await Promise.all(sealed.map((s, i) => crypter.decrypt(s, Uint8Array.of(i))));
    expect(opened).toEqual(inputs);
  });

  it("header key id is big-endian at offset 8", async () => {
    const sealed = await new AesGcmCrypter(key16, { keyId: 0x01020304 }).encrypt(new Uint8Array(0));
    expect([...sealed.subarray(OFFSET_KEY_ID, OFFSET_KEY_ID + 4)]).toEqual([1, 2, 3, 4]);
  });
});
