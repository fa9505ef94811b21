import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AesGcmCrypter, LegacyAesGcmCrypter } from "@mk/crypto";
import { loadNodeCrypto, type Engine } from "../src/cipher-backend.ts";
import { sealEnvelope } from "../src/envelope.ts";
import { SubkeyDeriver } from "../src/subkey.ts";
import {
  fixedRandom,
  fromHex,
  labelBytes,
  nodeOpenEnvelope,
  readJson,
  sha256Hex,
  vectorsDir,
  type EnvelopeVector,
  type LegacyVector,
  type SegmentedVector,
} from "./helpers.ts";

const envelopes = readJson<{ vectors: EnvelopeVector[] }>("envelope-v1.json").vectors;
const legacy = readJson<{ vectors: LegacyVector[] }>("legacy.json").vectors;
const segmented = readJson<{ vectors: SegmentedVector[] }>("envelope-v1-segmented.json").vectors;
const backends = ["js", "webcrypto", "auto"] as const;
// Engines that seal: both noble backends and node:crypto's native AES-GCM ("auto" on Node).
const engines = ["js", "webcrypto", "node"] as const;
const nodeCrypto = loadNodeCrypto();
function engine(name: (typeof engines)[number]): Engine {
  if (name !== "node") return name;
  if (nodeCrypto === undefined) throw new Error("node:crypto not available through process.getBuiltinModule");
  return nodeCrypto;
}

describe("reference Go vector (echo.state)", () => {
  const file = Uint8Array.from(readFileSync(join(vectorsDir, "echo.state")));

  it.each(backends)("LegacyAesGcmCrypter (%s) opens it to the JSON 3", async (backend) => {
    const crypter = new LegacyAesGcmCrypter("1234567890123456", { backend });
    const plaintext = await crypter.decrypt(file);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toBe(3);
  });

  it("fails with AUTH_FAILED under another key and with any AD", async () => {
    await expect(new LegacyAesGcmCrypter("6543210987654321").decrypt(file)).rejects.toMatchObject({
      code: "AUTH_FAILED",
    });
    await expect(new LegacyAesGcmCrypter("1234567890123456").decrypt(file, Uint8Array.of(0))).rejects.toMatchObject({
      code: "AUTH_FAILED",
    });
  });

  it("is not an mk envelope: AesGcmCrypter says BAD_MAGIC (the cue to try the legacy crypter)", async () => {
    await expect(new AesGcmCrypter("1234567890123456").decrypt(file)).rejects.toMatchObject({ code: "BAD_MAGIC" });
  });
});

describe("envelope v1 vectors made with node:crypto", () => {
  it.each(envelopes.flatMap((v) => backends.map((b) => [v.name, b, v] as const)))(
    "%s: opens (%s)",
    async (_, backend, v) => {
      const crypter = new AesGcmCrypter(fromHex(v.key), { keyId: v.keyId, backend });
      const ad = v.associatedData === undefined ? undefined : fromHex(v.associatedData);
      expect(await crypter.decrypt(fromHex(v.envelope), ad)).toEqual(fromHex(v.plaintext));
    },
  );

  it.each(envelopes.flatMap((v) => engines.map((b) => [v.name, b, v] as const)))(
    "%s: sealing with the same salt and nonce gives the same bytes (%s)",
    async (_, name, v) => {
      const backend = engine(name);
      const ad = v.associatedData === undefined ? undefined : fromHex(v.associatedData);
      const sealed = await sealEnvelope(
        backend,
        new SubkeyDeriver(fromHex(v.key)),
        v.keyId,
        fromHex(v.plaintext),
        ad,
        fixedRandom(fromHex(v.salt), fromHex(v.nonce)),
      );
      expect(Buffer.from(sealed).toString("hex")).toBe(v.envelope);
    },
  );
});

describe("segmented (algorithm 2) vectors made with node:crypto", () => {
  it.each(segmented.flatMap((v) => engines.map((b) => [v.name, b, v] as const)))(
    "%s: same salt and nonce give the same bytes (%s), which open",
    async (_, name, v) => {
      const backend = engine(name);
      const ad = v.associatedData === undefined ? undefined : fromHex(v.associatedData);
      const plaintext = labelBytes(v.plaintextLabel, v.plaintextLength);
      const sealed = await sealEnvelope(
        backend,
        new SubkeyDeriver(fromHex(v.key)),
        v.keyId,
        plaintext,
        ad,
        fixedRandom(fromHex(v.salt), fromHex(v.nonce)),
      );
      expect(sealed.length).toBe(v.envelopeLength);
      expect(sha256Hex(sealed)).toBe(v.envelopeSha256);
      expect(sealed[5]).toBe(2);
      const crypter = new AesGcmCrypter(fromHex(v.key), { keyId: v.keyId, backend: name === "node" ? "auto" : name });
      expect(Buffer.from(await crypter.decrypt(sealed, ad)).equals(plaintext)).toBe(true);
      expect(Buffer.from(nodeOpenEnvelope(fromHex(v.key), sealed, ad)).equals(plaintext)).toBe(true);
    },
  );
});

describe("legacy vectors made with node:crypto", () => {
  it.each(legacy.flatMap((v) => backends.map((b) => [v.name, b, v] as const)))(
    "%s: opens (%s)",
    async (_, backend, v) => {
      const crypter = new LegacyAesGcmCrypter(fromHex(v.key), { backend });
      const ad = v.associatedData === undefined ? undefined : fromHex(v.associatedData);
      expect(await crypter.decrypt(fromHex(v.ciphertext), ad)).toEqual(fromHex(v.plaintext));
    },
  );
});
