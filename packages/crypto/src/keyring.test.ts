import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AesGcmCrypter } from "./aes-gcm-crypter.ts";
import { CryptoError, UnknownKeyError } from "./errors.ts";

const k1 = "key-one-16-bytes";
const k2 = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const k3 = Uint8Array.from({ length: 24 }, (_, i) => i + 1);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("keyring and rotation", () => {
  it("defaults the primary key id to 0", async () => {
    const crypter = new AesGcmCrypter(k1);
    expect(crypter.primaryKeyId).toBe(0);
    expect(crypter.keyIdOf(await crypter.encrypt(text("x")))).toBe(0);
  });

  it("opens envelopes of a previous key, reports needsRewrap, and rewraps them under the primary", async () => {
    const before = new AesGcmCrypter(k1, { keyId: 1 });
    const ad = text("echo");
    const old = await before.encrypt(text('{"count":3}'), ad);

    const after = new AesGcmCrypter(k2, { keyId: 2, previousKeys: [{ id: 1, key: k1 }] });
    expect(after.keyIds).toEqual([2, 1]);
    expect(after.needsRewrap(old)).toBe(true);
    expect(new TextDecoder().decode(await after.decrypt(old, ad))).toBe('{"count":3}');

    const rewrapped = await after.rewrap(old, ad);
    expect(after.keyIdOf(rewrapped)).toBe(2);
    expect(after.needsRewrap(rewrapped)).toBe(false);
    expect(new TextDecoder().decode(await after.decrypt(rewrapped, ad))).toBe('{"count":3}');
    // Once the old key is retired, the old envelope has no key; the rewrapped one still opens.
    const retired = new AesGcmCrypter(k2, { keyId: 2 });
    await expect(retired.decrypt(old, ad)).rejects.toBeInstanceOf(UnknownKeyError);
    expect(new TextDecoder().decode(await retired.decrypt(rewrapped, ad))).toBe('{"count":3}');
    // The old crypter cannot read what the new primary sealed.
    await expect(before.decrypt(rewrapped, ad)).rejects.toMatchObject({ code: "UNKNOWN_KEY" });
  });

  it("rewrap keeps the associated data binding", async () => {
    const crypter = new AesGcmCrypter(k2, { keyId: 2, previousKeys: [{ id: 1, key: k1 }] });
    const old = await new AesGcmCrypter(k1, { keyId: 1 }).encrypt(text("s"), text("alpha"));
    await expect(crypter.rewrap(old, text("beta"))).rejects.toMatchObject({ code: "AUTH_FAILED" });
    const rewrapped = await crypter.rewrap(old, text("alpha"));
    await expect(crypter.decrypt(rewrapped, text("beta"))).rejects.toMatchObject({ code: "AUTH_FAILED" });
  });

  it("selects the key by id, never by trying: a wrong key filed under a known id fails AUTH_FAILED", async () => {
    const sealedUnderK3 = await new AesGcmCrypter(k3, { keyId: 1 }).encrypt(text("x"));
    const crypter = new AesGcmCrypter(k2, {
      keyId: 2,
      previousKeys: [
        { id: 1, key: k1 },
        { id: 3, key: k3 },
      ],
    });
    // k3 is in the ring (as id 3), but the header says 1: no fallback to other keys.
    await expect(crypter.decrypt(sealedUnderK3)).rejects.toMatchObject({ code: "AUTH_FAILED" });
  });

  it("an unknown key id is UNKNOWN_KEY and the error names it and the known ids", async () => {
    const sealed = await new AesGcmCrypter(k1, { keyId: 0xdeadbeef }).encrypt(text("x"));
    const crypter = new AesGcmCrypter(k1, { keyId: 5, previousKeys: [{ id: 6, key: k2 }] });
    const error = await crypter.decrypt(sealed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect((error as UnknownKeyError).keyId).toBe(0xdeadbeef);
    expect((error as Error).message).toBe("unknown key id 0xdeadbeef: expected one of 0x00000005, 0x00000006");
  });

  it("rotation over many generations: every envelope opens with the final ring and rewraps to the primary", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.nat({ max: 0xffffffff }), { minLength: 2, maxLength: 6 }), async (ids) => {
        const keys = ids.map((id) => ({ id, key: Uint8Array.from({ length: 16 }, (_, i) => (id + i * 31) & 0xff) }));
        const sealed = await Promise.all(
          keys.map(async ({ id, key }) => new AesGcmCrypter(key, { keyId: id }).encrypt(text(String(id)))),
        );
        const [primary, ...previous] = [...keys].reverse();
        if (primary === undefined) throw new Error("unreachable");
        const ring = new AesGcmCrypter(primary.key, { keyId: primary.id, previousKeys: previous });
        for (const [i, envelope] of sealed.entries()) {
          expect(new TextDecoder().decode(await ring.decrypt(envelope))).toBe(String(ids[i]));
          expect(ring.needsRewrap(envelope)).toBe(ids[i] !== primary.id);
          expect(ring.keyIdOf(await ring.rewrap(envelope))).toBe(primary.id);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("refuses duplicate ids, bad ids and bad previous keys at construction", () => {
    expect(() => new AesGcmCrypter(k1, { keyId: 1, previousKeys: [{ id: 1, key: k2 }] })).toThrow(/duplicate key id 1/);
    for (const id of [-1, 1.5, 2 ** 32, Number.NaN, "1" as unknown as number]) {
      expect(() => new AesGcmCrypter(k1, { keyId: id })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    expect(() => new AesGcmCrypter(k1, { previousKeys: [{ id: 1, key: "short" }] })).toThrow(
      expect.objectContaining({
        code: "BAD_KEY_SIZE",
        message: expect.stringContaining("aes key (previous key id 1) expected 16, 24 or 32 bytes, got 5 "),
      }),
    );
    expect(() => new AesGcmCrypter(k1, { previousKeys: [null as unknown as { id: number; key: string }] })).toThrow(
      CryptoError,
    );
  });

  it("needsRewrap and keyIdOf read the header only and refuse non-envelopes", () => {
    const crypter = new AesGcmCrypter(k1);
    expect(() => crypter.needsRewrap(new Uint8Array(200))).toThrow(expect.objectContaining({ code: "BAD_MAGIC" }));
    expect(() => crypter.keyIdOf(Uint8Array.of(0x89, 0x4d))).toThrow(expect.objectContaining({ code: "TRUNCATED" }));
  });
});
