import { createDecipheriv, hkdfSync } from "node:crypto";
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
 * Independent oracle: opens a v1 envelope with node:crypto only (HKDF-SHA256, AES-256-GCM),
 * following the README's layout. Throws when the tag does not verify.
 */
export function nodeOpenEnvelope(master: Uint8Array, envelope: Uint8Array, ad: Uint8Array = new Uint8Array(0)): Uint8Array {
  const e = Buffer.from(envelope);
  const prefix = e.subarray(0, 12);
  const salt = e.subarray(12, 44);
  const nonce = e.subarray(44, 56);
  const header = e.subarray(0, 88);
  const extractSalt = Buffer.from("mk/crypto v1 hkdf-extract");
  const okm = Buffer.from(hkdfSync("sha256", master, extractSalt, Buffer.concat([prefix, salt]), 64));
  if (!okm.subarray(32).equals(e.subarray(56, 88))) throw new Error("oracle: commitment mismatch");
  const adLength = Buffer.alloc(8);
  adLength.writeBigUInt64BE(BigInt(ad.length));
  const decipher = createDecipheriv("aes-256-gcm", okm.subarray(0, 32), nonce);
  decipher.setAAD(Buffer.concat([header, adLength, ad]));
  decipher.setAuthTag(e.subarray(e.length - 16));
  return Uint8Array.from(Buffer.concat([decipher.update(e.subarray(88, e.length - 16)), decipher.final()]));
}

/** A fixed random source for byte-for-byte comparisons: always hands out salt || nonce. */
export function fixedRandom(salt: Uint8Array, nonce: Uint8Array): (length: number) => Uint8Array {
  return (length: number) => {
    if (length !== salt.length + nonce.length) throw new Error(`fixedRandom: asked for ${length} bytes`);
    return Uint8Array.from([...salt, ...nonce]);
  };
}
