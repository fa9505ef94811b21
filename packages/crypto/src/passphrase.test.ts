import { scrypt as nodeScrypt } from "node:crypto";
import { promisify } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AesGcmCrypter } from "./aes-gcm-crypter.ts";
import {
  createScryptParams,
  deriveKeyFromPassphrase,
  parseScryptParams,
  SCRYPT_LIMITS,
  serializeScryptParams,
  validateScryptParams,
  type ScryptParams,
} from "./passphrase.ts";

const scryptNode = promisify(nodeScrypt) as (
  pw: string,
  salt: Uint8Array,
  len: number,
  opts: object,
) => Promise<Buffer>;

// Real scrypt at OWASP's cost, several times per test: on a busy machine one test
// took over 20 s (the default limit) on a loaded 2-core box, so a generous limit.
describe("passphrase keys (scrypt)", { timeout: 120_000 }, () => {
  it("defaults to OWASP's N=2^17, r=8, p=1 with a 16-byte random salt", () => {
    const a = createScryptParams();
    const b = createScryptParams();
    expect([a.algorithm, a.N, a.r, a.p, a.salt.length]).toEqual(["scrypt", 2 ** 17, 8, 1, 16]);
    expect(a.salt).not.toEqual(b.salt);
  });

  it("derives the key node:crypto's scrypt derives, and the same one from the stored params", async () => {
    const params = createScryptParams({ N: 2 ** 14, r: 8, p: 5 });
    const key = await deriveKeyFromPassphrase("correct horse battery staple", params);
    const oracle = await scryptNode("correct horse battery staple", params.salt, 32, {
      N: 2 ** 14,
      r: 8,
      p: 5,
      maxmem: 2 ** 28,
    });
    expect(Buffer.from(key).equals(oracle)).toBe(true);

    const again = await deriveKeyFromPassphrase(
      "correct horse battery staple",
      parseScryptParams(serializeScryptParams(params)),
    );
    expect(again).toEqual(key);
    const crypter = new AesGcmCrypter(key);
    const sealed = await crypter.encrypt(Uint8Array.of(42));
    expect(await new AesGcmCrypter(again).decrypt(sealed)).toEqual(Uint8Array.of(42));
    const wrong = await deriveKeyFromPassphrase("correct horse battery stapler", params);
    await expect(new AesGcmCrypter(wrong).decrypt(sealed)).rejects.toMatchObject({ code: "AUTH_FAILED" });
  });

  it("runs the default cost without blocking the event loop for long stretches", async () => {
    const params = createScryptParams();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await deriveKeyFromPassphrase("pw", params);
    } finally {
      clearInterval(timer);
    }
    // A blocking scrypt would let the interval fire at most once; no timing bound is asserted.
    expect(ticks).toBeGreaterThan(1);
  });

  it("serializes to one line of JSON", () => {
    const params = validateScryptParams({
      algorithm: "scrypt",
      N: 2 ** 17,
      r: 8,
      p: 1,
      salt: new Uint8Array(16).fill(1),
    });
    expect(serializeScryptParams(params)).toBe(
      '{"kdf":"scrypt","N":131072,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}',
    );
  });

  const hostile: [string, string][] = [
    ["N=2^30 (hostile memory)", '{"kdf":"scrypt","N":1073741824,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["N=2^21 (over the cap)", '{"kdf":"scrypt","N":2097152,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["N not a power of two", '{"kdf":"scrypt","N":131071,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["N=2^10 (too weak)", '{"kdf":"scrypt","N":1024,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["N=2^14 p=1 (below OWASP)", '{"kdf":"scrypt","N":16384,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["r=1", '{"kdf":"scrypt","N":131072,"r":1,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["p=1000", '{"kdf":"scrypt","N":131072,"r":8,"p":1000,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["memory over 512 MiB", '{"kdf":"scrypt","N":1048576,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["N as a string", '{"kdf":"scrypt","N":"131072","r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["N=Infinity-ish", '{"kdf":"scrypt","N":1e400,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["other kdf", '{"kdf":"pbkdf2","N":131072,"r":8,"p":1,"salt":"AQEBAQEBAQEBAQEBAQEBAQ=="}'],
    ["short salt", '{"kdf":"scrypt","N":131072,"r":8,"p":1,"salt":"AQE="}'],
    ["salt not base64", '{"kdf":"scrypt","N":131072,"r":8,"p":1,"salt":"!!!"}'],
    ["missing salt", '{"kdf":"scrypt","N":131072,"r":8,"p":1}'],
    ["not JSON", "scrypt$N=131072"],
    ["an array", "[1,2]"],
    ["null", "null"],
    ["oversized", JSON.stringify({ kdf: "scrypt", pad: "x".repeat(2000) })],
  ];
  it.each(hostile)("refuses %s with BAD_KDF_PARAMS before running scrypt", async (_, text) => {
    expect(() => parseScryptParams(text)).toThrow(expect.objectContaining({ code: "BAD_KDF_PARAMS" }));
  });

  it("refuses out-of-range params passed directly to derive and create", async () => {
    const bad = { algorithm: "scrypt", N: 2 ** 30, r: 8, p: 1, salt: new Uint8Array(16) } as ScryptParams;
    await expect(deriveKeyFromPassphrase("pw", bad)).rejects.toMatchObject({ code: "BAD_KDF_PARAMS" });
    expect(() => createScryptParams({ N: 2 ** 12 })).toThrow(expect.objectContaining({ code: "BAD_KDF_PARAMS" }));
    await expect(deriveKeyFromPassphrase("", createScryptParams())).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(deriveKeyFromPassphrase(42 as unknown as string, createScryptParams())).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("accepts exactly the params inside SCRYPT_LIMITS (property)", () => {
    const L = SCRYPT_LIMITS;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 31 }),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 80 }),
        (log2N, r, p, saltLength) => {
          const N = 2 ** log2N;
          const inside =
            log2N >= L.minLog2N &&
            log2N <= L.maxLog2N &&
            r >= L.minR &&
            r <= L.maxR &&
            p >= 1 &&
            p <= L.maxP &&
            N * r * p >= L.minWork &&
            N * r * p <= L.maxWork &&
            128 * N * r <= L.maxMemoryBytes &&
            saltLength >= L.minSaltLength &&
            saltLength <= L.maxSaltLength;
          const attempt = (): ScryptParams =>
            validateScryptParams({ algorithm: "scrypt", N, r, p, salt: new Uint8Array(saltLength) });
          if (inside) expect(attempt().N).toBe(N);
          else expect(attempt).toThrow(expect.objectContaining({ code: "BAD_KDF_PARAMS" }));
        },
      ),
      { numRuns: 500 },
    );
  });
});
