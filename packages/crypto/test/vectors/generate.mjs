// Makes envelope-v1.json, envelope-v1-segmented.json and legacy.json from node:crypto alone (HKDF-SHA256 and AES-GCM),
// following the layout in ../../README.md, so @mk/crypto is checked against an independent
// implementation of its own spec. Deterministic: rerunning writes the same files.
//   node packages/crypto/test/vectors/generate.mjs
import { createCipheriv, createHash, hkdfSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const hex = (b) => Buffer.from(b).toString("hex");
// Deterministic "random" bytes: SHA-256 chains of a label.
function bytes(label, length) {
  const out = [];
  let block = createHash("sha256").update(label).digest();
  while (out.length < length) {
    out.push(...block);
    block = createHash("sha256").update(block).digest();
  }
  return Buffer.from(out.slice(0, length));
}

const cases = [
  { name: "aes128 key, empty plaintext, no AD", keyLength: 16, keyId: 0, plaintext: Buffer.alloc(0), ad: undefined },
  {
    name: "reference key string, JSON 3, no AD",
    key: Buffer.from("1234567890123456"),
    keyId: 0,
    plaintext: Buffer.from("3"),
    ad: undefined,
  },
  {
    name: "aes192 key, short JSON, AD=service name",
    keyLength: 24,
    keyId: 1,
    plaintext: Buffer.from('{"count":10}'),
    ad: Buffer.from("echo"),
  },
  {
    name: "aes256 key, 1000 bytes, empty AD",
    keyLength: 32,
    keyId: 7,
    plaintext: bytes("pt-1000", 1000),
    ad: Buffer.alloc(0),
  },
  {
    name: "aes256 key, 5000 bytes (webcrypto path), AD",
    keyLength: 32,
    keyId: 0xffffffff,
    plaintext: bytes("pt-5000", 5000),
    ad: Buffer.from("alpha"),
  },
  {
    name: "aes256 key, 20000 bytes, long AD",
    keyLength: 32,
    keyId: 0x01020304,
    plaintext: bytes("pt-20000", 20000),
    ad: bytes("ad-300", 300),
  },
];

const EXTRACT_SALT = Buffer.from("mk/crypto v1 hkdf-extract");

/** The v1 header for `algorithm` and the 64-byte HKDF output (key || commitment) it commits to. */
function sealHeader(algorithm, keyId, key, salt, nonce) {
  const prefix = Buffer.alloc(12);
  prefix.set([0x89, 0x4d, 0x4b, 0x43, 1, algorithm, 0, 0]);
  prefix.writeUInt32BE(keyId, 8);
  const okm = Buffer.from(hkdfSync("sha256", key, EXTRACT_SALT, Buffer.concat([prefix, salt]), 64));
  return { okm, header: Buffer.concat([prefix, salt, nonce, okm.subarray(32)]) };
}

/** A big-endian uint64, as the AAD length fields are written. */
function u64(value) {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}
const envelopes = cases.map((c, i) => {
  const key = c.key ?? bytes(`key-${i}`, c.keyLength);
  const salt = bytes(`salt-${i}`, 32);
  const nonce = bytes(`nonce-${i}`, 12);
  const { okm, header } = sealHeader(1, c.keyId, key, salt, nonce);
  const ad = c.ad ?? Buffer.alloc(0);
  const adLength = u64(ad.length);
  const cipher = createCipheriv("aes-256-gcm", okm.subarray(0, 32), nonce);
  cipher.setAAD(Buffer.concat([header, adLength, ad]));
  const body = Buffer.concat([cipher.update(c.plaintext), cipher.final(), cipher.getAuthTag()]);
  return {
    name: c.name,
    key: hex(key),
    keyId: c.keyId,
    salt: hex(salt),
    nonce: hex(nonce),
    ...(c.ad === undefined ? {} : { associatedData: hex(c.ad) }),
    plaintext: hex(c.plaintext),
    envelope: hex(Buffer.concat([header, body])),
  };
});

// Algorithm 2 (256 KiB segments): plaintexts are bytes(label, length), so the file stores the
// label and the envelope's SHA-256 instead of hundreds of KiB of hex.
const SEGMENT = 262144;
const segmentedCases = [
  { name: "aes128 key, 262145 bytes (two segments, the last 1 byte), no AD", keyLength: 16, keyId: 0, length: 262145 },
  {
    name: "aes256 key, 524288 bytes (two full segments), AD",
    keyLength: 32,
    keyId: 3,
    length: 524288,
    ad: Buffer.from("echo"),
  },
  {
    name: "aes192 key, 1000000 bytes (four segments), long AD",
    keyLength: 24,
    keyId: 0xfffffffe,
    length: 1000000,
    ad: bytes("seg-ad", 100),
  },
];
const segmented = segmentedCases.map((c, i) => {
  const key = bytes(`seg-key-${i}`, c.keyLength);
  const salt = bytes(`seg-salt-${i}`, 32);
  const nonce = bytes(`seg-nonce-${i}`, 12);
  const plaintextLabel = `seg-pt-${i}`;
  const plaintext = bytes(plaintextLabel, c.length);
  const { okm, header } = sealHeader(2, c.keyId, key, salt, nonce);
  const ad = c.ad ?? Buffer.alloc(0);
  const adLength = u64(ad.length);
  const total = u64(plaintext.length);
  const aad = Buffer.concat([header, adLength, ad, total]);
  const parts = [header];
  for (let s = 0; s * SEGMENT < plaintext.length; s++) {
    const iv = Buffer.from(nonce);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ s) >>> 0, 8);
    const cipher = createCipheriv("aes-256-gcm", okm.subarray(0, 32), iv);
    cipher.setAAD(aad);
    parts.push(cipher.update(plaintext.subarray(s * SEGMENT, (s + 1) * SEGMENT)), cipher.final(), cipher.getAuthTag());
  }
  const envelope = Buffer.concat(parts);
  return {
    name: c.name,
    key: hex(key),
    keyId: c.keyId,
    salt: hex(salt),
    nonce: hex(nonce),
    ...(c.ad === undefined ? {} : { associatedData: hex(c.ad) }),
    plaintextLabel,
    plaintextLength: c.length,
    envelopeLength: envelope.length,
    envelopeSha256: createHash("sha256").update(envelope).digest("hex"),
  };
});

const legacyCases = [
  { name: "aes128 (reference key), JSON 3", key: Buffer.from("1234567890123456"), plaintext: Buffer.from("3") },
  { name: "aes192, empty plaintext", key: bytes("legacy-key-192", 24), plaintext: Buffer.alloc(0) },
  {
    name: "aes256, 5000 bytes, AD",
    key: bytes("legacy-key-256", 32),
    plaintext: bytes("legacy-pt", 5000),
    ad: Buffer.from("echo"),
  },
];
const legacy = legacyCases.map((c, i) => {
  const nonce = bytes(`legacy-nonce-${i}`, 12);
  const cipher = createCipheriv(`aes-${c.key.length * 8}-gcm`, c.key, nonce);
  if (c.ad) cipher.setAAD(c.ad);
  const body = Buffer.concat([cipher.update(c.plaintext), cipher.final(), cipher.getAuthTag()]);
  return {
    name: c.name,
    key: hex(c.key),
    ...(c.ad === undefined ? {} : { associatedData: hex(c.ad) }),
    plaintext: hex(c.plaintext),
    ciphertext: hex(Buffer.concat([nonce, body])),
  };
});

const note = "generated by test/vectors/generate.mjs with node:crypto (see README.md)";
writeFileSync(join(here, "envelope-v1.json"), JSON.stringify({ note, vectors: envelopes }, null, 2) + "\n");
writeFileSync(join(here, "envelope-v1-segmented.json"), JSON.stringify({ note, vectors: segmented }, null, 2) + "\n");
writeFileSync(join(here, "legacy.json"), JSON.stringify({ note, vectors: legacy }, null, 2) + "\n");
