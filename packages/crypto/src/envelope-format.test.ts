import { describe, expect, it } from "vitest";
import { AesGcmCrypter } from "./aes-gcm-crypter.ts";
import {
  HEADER_LENGTH,
  MIN_ENVELOPE_LENGTH,
  OFFSET_COMMITMENT,
  OFFSET_KEY_ID,
  OFFSET_NONCE,
  OFFSET_SALT,
  buildAad,
  hasEnvelopeMagic,
  parseEnvelope,
  writePrefix,
} from "./envelope-format.ts";
import { CryptoError } from "./errors.ts";

const key = "1234567890123456";
const ad = new TextEncoder().encode("alpha");
const crypter = new AesGcmCrypter(key, { keyId: 1, previousKeys: [{ id: 2, key: "6543210987654321" }] });
const sealed = await crypter.encrypt(new TextEncoder().encode('{"n":1}'), ad);

function edit(at: number, value: number): Uint8Array {
  const copy = Uint8Array.from(sealed);
  copy[at] = value;
  return copy;
}

// The research notes' hostile-input table (state-security.md §C), envelope rows.
const cases: [string, () => Uint8Array, string, RegExp?][] = [
  ["version 1 -> 0 (downgrade)", () => edit(4, 0), "UNSUPPORTED_VERSION", /unsupported envelope version 0: expected 1/],
  ["version 1 -> 2 (from the future)", () => edit(4, 2), "UNSUPPORTED_VERSION", /newer/],
  ["algorithm changed", () => edit(5, 3), "UNSUPPORTED_ALGORITHM", /0x03/],
  ["flags != 0", () => edit(7, 1), "UNKNOWN_FLAGS", /0x0001/],
  ["key id rewritten to another known id", () => edit(11, 2), "AUTH_FAILED", /key commitment mismatch for key id 2/],
  ["key id rewritten to an unknown id", () => edit(11, 9), "UNKNOWN_KEY", /0x00000009/],
  ["salt changed", () => edit(20, (sealed[20] ?? 0) ^ 1), "AUTH_FAILED", /commitment/],
  ["nonce changed", () => edit(50, (sealed[50] ?? 0) ^ 1), "AUTH_FAILED"],
  ["commitment changed", () => edit(60, (sealed[60] ?? 0) ^ 1), "AUTH_FAILED", /commitment/],
  ["ciphertext changed", () => edit(HEADER_LENGTH, (sealed[HEADER_LENGTH] ?? 0) ^ 1), "AUTH_FAILED"],
  ["tag changed", () => edit(sealed.length - 1, (sealed[sealed.length - 1] ?? 0) ^ 1), "AUTH_FAILED"],
  ["truncated by 1 byte", () => sealed.subarray(0, sealed.length - 1), "AUTH_FAILED"],
  [
    "truncated to the header",
    () => sealed.subarray(0, HEADER_LENGTH),
    "TRUNCATED",
    /expected at least 104 bytes, got 88/,
  ],
  ["truncated inside the magic", () => sealed.subarray(0, 2), "TRUNCATED"],
  ["empty", () => new Uint8Array(0), "TRUNCATED"],
  ["trailing garbage", () => Uint8Array.from([...sealed, 0]), "AUTH_FAILED"],
  [
    "all zeros of the right length (delayed allocation after a crash)",
    () => new Uint8Array(sealed.length),
    "BAD_MAGIC",
  ],
  [
    "a legacy reference file",
    () => Uint8Array.from(Buffer.from("c2e3ff11488d7333b08fa71061c18d773876b8803017fee998ea4d5ff6", "hex")),
    "BAD_MAGIC",
  ],
  ["text", () => new TextEncoder().encode('{"n":1}'), "BAD_MAGIC"],
];

describe("envelope header validation", () => {
  it.each(cases)("%s -> %s", async (_, input, code, message) => {
    const error = await crypter.decrypt(input(), ad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe(code);
    if (message !== undefined) expect((error as Error).message).toMatch(message);
  });

  it("the untouched envelope opens", async () => {
    expect(new TextDecoder().decode(await crypter.decrypt(sealed, ad))).toBe('{"n":1}');
  });

  it("parses the fields at their documented offsets", () => {
    const parsed = parseEnvelope(sealed);
    expect(parsed.keyId).toBe(1);
    expect(parsed.algorithm).toBe(1);
    expect([...sealed.subarray(0, 8)]).toEqual([0x89, 0x4d, 0x4b, 0x43, 1, 1, 0, 0]);
    expect([OFFSET_KEY_ID, OFFSET_SALT, OFFSET_NONCE, OFFSET_COMMITMENT, HEADER_LENGTH]).toEqual([8, 12, 44, 56, 88]);
    expect(parsed.bytes).toBe(sealed);
    expect(MIN_ENVELOPE_LENGTH).toBe(104);
    expect(hasEnvelopeMagic(sealed)).toBe(true);
    expect(hasEnvelopeMagic(sealed.subarray(1))).toBe(false);
  });

  it("views a Buffer in place as a plain Uint8Array (Buffer views cost more to build)", () => {
    const pool = Buffer.alloc(sealed.length + 7);
    pool.set(sealed, 7);
    const input = pool.subarray(7);
    const parsed = parseEnvelope(input);
    expect(Object.getPrototypeOf(parsed.bytes)).toBe(Uint8Array.prototype);
    expect(parsed.bytes.buffer).toBe(input.buffer);
    expect([parsed.bytes.byteOffset, parsed.bytes.length]).toEqual([input.byteOffset, input.length]);
    expect(parsed.keyId).toBe(1);
  });

  it("reads key ids with the top bit set as unsigned", () => {
    for (const id of [0x8000_0000, 0xffff_ffff, 0x1234_5678]) {
      const copy = Uint8Array.from(sealed);
      writePrefix(copy, id, 1);
      expect(parseEnvelope(copy).keyId).toBe(id);
    }
  });
});

describe("buildAad", () => {
  const header = Uint8Array.from({ length: HEADER_LENGTH }, (_, i) => i + 1);

  it("is header || uint64be(len(ad)) || ad, reading the header from a whole envelope in place", () => {
    const envelope = Uint8Array.from([...header, 0xee, 0xee]);
    const aad = buildAad(envelope, Uint8Array.of(7, 8, 9));
    expect([...aad]).toEqual([...header, 0, 0, 0, 0, 0, 0, 0, 3, 7, 8, 9]);
    expect([...buildAad(header, undefined)]).toEqual([...header, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("appends uint64be(plaintext length) for segmented envelopes, lengths over 2^32 included", () => {
    const aad = buildAad(header, Uint8Array.of(1), 2 ** 33 + 0x0102_0304);
    expect([...aad.subarray(HEADER_LENGTH)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 2, 1, 2, 3, 4]);
  });
});
