import { createDecipheriv, createHash, hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const vectorsDir: string = join(import.meta.dirname, "vectors");

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

export function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(vectorsDir, name), "utf8")) as T;
}

export interface EnvelopeVector {
  name: string;
  key: string;
  keyId: number;
  salt: string;
  nonce: string;
  associatedData?: string;
  plaintext: string;
  envelope: string;
}

export interface LegacyVector {
  name: string;
  key: string;
  associatedData?: string;
  plaintext: string;
  ciphertext: string;
}

/**
 * Independent oracle: opens a v1 envelope (algorithm 1 or 2) with node:crypto only
 * (HKDF-SHA256, AES-256-GCM), following the README's layout. Throws when anything does not verify.
 */
export function nodeOpenEnvelope(
  master: Uint8Array,
  envelope: Uint8Array,
  ad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const e = Buffer.from(envelope);
  const header = e.subarray(0, 88);
  const extractSalt = Buffer.from("mk/crypto v1 hkdf-extract");
  const okm = Buffer.from(hkdfSync("sha256", master, extractSalt, e.subarray(0, 44), 64));
  if (!okm.subarray(32).equals(e.subarray(56, 88))) throw new Error("oracle: commitment mismatch");
  const key = okm.subarray(0, 32);
  const nonce = e.subarray(44, 56);
  const body = e.subarray(88);
  const adLength = Buffer.alloc(8);
  adLength.writeBigUInt64BE(BigInt(ad.length));
  const open = (sealed: Buffer, iv: Buffer, aad: Buffer): Buffer => {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  };
  if (e[5] === 1) return Uint8Array.from(open(body, nonce, Buffer.concat([header, adLength, ad])));
  if (e[5] !== 2) throw new Error("oracle: unknown algorithm");
  const segment = 262144 + 16;
  const count = Math.ceil(body.length / segment);
  const total = Buffer.alloc(8);
  total.writeBigUInt64BE(BigInt(body.length - 16 * count));
  const aad = Buffer.concat([header, adLength, ad, total]);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const iv = Buffer.from(nonce);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ i) >>> 0, 8);
    parts.push(open(body.subarray(i * segment, (i + 1) * segment), iv, aad));
  }
  return Uint8Array.from(Buffer.concat(parts));
}

/** A fixed random source for byte-for-byte comparisons: always hands out salt || nonce. */
export function fixedRandom(salt: Uint8Array, nonce: Uint8Array): (length: number) => Uint8Array {
  return (length: number) => {
    if (length !== salt.length + nonce.length) throw new Error(`fixedRandom: asked for ${length} bytes`);
    return Uint8Array.from([...salt, ...nonce]);
  };
}

/** generate.mjs's deterministic bytes: SHA-256 chains of a label. */
export function labelBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let block = createHash("sha256").update(label).digest();
  for (let at = 0; at < length; at += 32) {
    out.set(block.subarray(0, Math.min(32, length - at)), at);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface SegmentedVector {
  name: string;
  key: string;
  keyId: number;
  salt: string;
  nonce: string;
  associatedData?: string;
  plaintextLabel: string;
  plaintextLength: number;
  envelopeLength: number;
  envelopeSha256: string;
}
