import { describe, expect, it } from "vitest";
import { pooledRandomBytes } from "./random-pool.ts";

describe("pooledRandomBytes", () => {
  it("never hands out the same bytes twice: 2,000 salts+nonces (several batches) are all distinct", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const bytes = pooledRandomBytes(44);
      expect(bytes.length).toBe(44);
      seen.add(Buffer.from(bytes).toString("hex"));
    }
    expect(seen.size).toBe(2000);
  });

  it("gives each caller its own copy: changing one result changes no other", () => {
    const a = pooledRandomBytes(32);
    const b = pooledRandomBytes(32);
    const before = Buffer.from(b);
    a.fill(0);
    expect(Buffer.from(b).equals(before)).toBe(true);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it("serves sizes from 0 to beyond the pooled limit", () => {
    for (const size of [0, 1, 12, 256, 257, 5000]) expect(pooledRandomBytes(size).length).toBe(size);
  });

  it("is not all zeros (the batch is drawn from the CSPRNG before use)", () => {
    const bytes = pooledRandomBytes(64);
    expect(bytes.some((byte) => byte !== 0)).toBe(true);
  });
});
