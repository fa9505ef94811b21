import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeOpenEnvelope } from "../test/helpers.ts";
import { AesGcmCrypter } from "./aes-gcm-crypter.ts";
import { HEADER_LENGTH, SEGMENT_SIZE } from "./envelope-format.ts";
import { CryptoError } from "./errors.ts";

const key = Uint8Array.from({ length: 32 }, (_, i) => i ^ 0x5a);
const ad = new TextEncoder().encode("big-service");
const js = new AesGcmCrypter(key, { backend: "js" });
const web = new AesGcmCrypter(key, { backend: "webcrypto" });
const SEALED_SEGMENT = SEGMENT_SIZE + 16;

function pattern(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
  throw new Error("expected a rejection, got plaintext");
}

// Megabytes of real AES-GCM per test: 6 s under load (a third of the default
// limit), so a generous limit keeps a busy machine from failing them.
describe("segmented envelopes (algorithm 2, plaintexts over 256 KiB)", { timeout: 120_000 }, () => {
  it.each([SEGMENT_SIZE, SEGMENT_SIZE + 1, 2 * SEGMENT_SIZE, 2 * SEGMENT_SIZE + 1, 5 * SEGMENT_SIZE - 7])(
    "%i bytes: roundtrip on both backends, across backends, and through the node:crypto oracle",
    async (length) => {
      const plaintext = pattern(length, length);
      for (const [sealer, opener] of [
        [js, web],
        [web, js],
        [web, web],
        [js, js],
      ] as const) {
        const sealed = await sealer.encrypt(plaintext, ad);
        expect(sealed[5]).toBe(length > SEGMENT_SIZE ? 2 : 1);
        expect(sealed.length).toBe(HEADER_LENGTH + length + 16 * Math.max(1, Math.ceil(length / SEGMENT_SIZE)));
        expect(same(await opener.decrypt(sealed, ad), plaintext)).toBe(true);
        expect(same(nodeOpenEnvelope(key, sealed, ad), plaintext)).toBe(true);
      }
    },
  );

  it("dropping, cutting, reordering or padding segments fails with AUTH_FAILED", async () => {
    const plaintext = pattern(3 * SEGMENT_SIZE + 100);
    const sealed = await web.encrypt(plaintext, ad);
    const body = sealed.subarray(HEADER_LENGTH);
    const seg = (i: number): Uint8Array => body.subarray(i * SEALED_SEGMENT, (i + 1) * SEALED_SEGMENT);
    const join = (...parts: Uint8Array[]): Uint8Array =>
      Uint8Array.from(Buffer.concat([sealed.subarray(0, HEADER_LENGTH), ...parts]));
    const cases: Uint8Array[] = [
      join(seg(0), seg(1), seg(2)), // last segment dropped: a whole number of full segments
      join(seg(0), seg(1)),
      join(seg(1), seg(0), seg(2), seg(3)), // reordered
      join(seg(0), seg(0), seg(2), seg(3)), // duplicated
      join(seg(0)), // a single full segment: not a segmented body
      join(seg(0), seg(1), seg(2), seg(3), Uint8Array.of(0)), // padded
      join(seg(0), seg(1), seg(2), seg(3).subarray(0, 16)), // last segment with an empty plaintext
      sealed.subarray(0, sealed.length - 1),
    ];
    for (const [i, input] of cases.entries()) {
      for (const crypter of [js, web])
        expect(`${i}:${await code(crypter.decrypt(input, ad))}`).toBe(`${i}:AUTH_FAILED`);
    }
    expect(await code(web.decrypt(sealed, new TextEncoder().encode("other")))).toBe("AUTH_FAILED");
  });

  it("switching the algorithm byte between 1 and 2 fails the key commitment", async () => {
    const big = await web.encrypt(pattern(SEGMENT_SIZE + 1), ad);
    big[5] = 1;
    expect(await code(web.decrypt(big, ad))).toBe("AUTH_FAILED");
    const small = await web.encrypt(pattern(100), ad);
    small[5] = 2;
    expect(await code(web.decrypt(small, ad))).toBe("AUTH_FAILED");
  });

  it("any single-bit flip in a segmented envelope is refused with the code of its region", async () => {
    const plaintext = pattern(2 * SEGMENT_SIZE + 3000);
    const sealed = await web.encrypt(plaintext, ad);
    await fc.assert(
      fc.asyncProperty(fc.nat(sealed.length - 1), fc.nat(7), fc.boolean(), async (offset, bit, useJs) => {
        const copy = Uint8Array.from(sealed);
        copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
        const got = await code((useJs ? js : web).decrypt(copy, ad));
        const expected =
          offset < 4
            ? "BAD_MAGIC"
            : offset === 4
              ? "UNSUPPORTED_VERSION"
              : offset === 5
                ? bit <= 1
                  ? ["UNSUPPORTED_ALGORITHM", "AUTH_FAILED"]
                  : "UNSUPPORTED_ALGORITHM"
                : offset < 8
                  ? "UNKNOWN_FLAGS"
                  : offset < 12
                    ? "UNKNOWN_KEY"
                    : "AUTH_FAILED";
        expect([expected].flat()).toContain(got);
      }),
      { numRuns: 60 },
    );
  });

  it("many concurrent segmented seals and opens do not interfere", async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => pattern(SEGMENT_SIZE * 2 + i * 1000, i));
    const sealed = await Promise.all(inputs.map((p, i) => (i % 2 === 0 ? web : js).encrypt(p, Uint8Array.of(i))));
    const opened = await Promise.all(sealed.map((s, i) => (i % 2 === 0 ? js : web).decrypt(s, Uint8Array.of(i))));
    for (const [i, p] of inputs.entries()) expect(same(opened[i] ?? new Uint8Array(0), p)).toBe(true);
  });
});
