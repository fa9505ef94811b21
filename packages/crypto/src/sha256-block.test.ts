import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SCHEDULE_WORDS, SHA256_IV, compressBlock } from "./sha256-block.ts";

/** SHA-256 of a message that pads to one block (at most 55 bytes), through compressBlock alone. */
function oneBlockSha256(message: Uint8Array): Uint8Array {
  const block = new Uint8Array(64);
  block.set(message);
  block[message.length] = 0x80;
  new DataView(block.buffer).setUint32(60, message.length * 8, false);
  const w = new Int32Array(SCHEDULE_WORDS);
  for (let i = 0; i < 16; i++) w[i] = new DataView(block.buffer).getInt32(i * 4, false);
  const state = new Int32Array(8);
  compressBlock(SHA256_IV, w, state);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) new DataView(out.buffer).setInt32(i * 4, state[i] ?? 0, false);
  return out;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("compressBlock", () => {
  it('gives FIPS 180-2 appendix B.1\'s SHA-256("abc")', () => {
    expect(hex(oneBlockSha256(new TextEncoder().encode("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("equals node:crypto's SHA-256 on any one-block message", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 55 }), (message) => {
        expect(hex(oneBlockSha256(message))).toBe(createHash("sha256").update(message).digest("hex"));
      }),
      { numRuns: 200 },
    );
  });

  it("may write its result over the state it read (out === state)", () => {
    const w = new Int32Array(SCHEDULE_WORDS).fill(0x0102_0304);
    const separate = new Int32Array(8);
    compressBlock(SHA256_IV, w.slice(), separate);
    const inPlace = Int32Array.from(SHA256_IV);
    compressBlock(inPlace, w, inPlace);
    expect([...inPlace]).toEqual([...separate]);
  });
});
