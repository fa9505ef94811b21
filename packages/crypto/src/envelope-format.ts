import { AuthenticationError, NotAnEnvelopeError, TruncatedError, UnsupportedFormatError } from "./errors.ts";

// Envelope format v1, big-endian (byte-by-byte table in the README):
//   0  4  magic 0x89 'M' 'K' 'C'   (high first byte: not text, not a legacy nonce by design)
//   4  1  format version (1)
//   5  1  algorithm id (1 = HKDF-SHA256 per-message subkey, AES-256-GCM, 32-byte commitment;
//                        2 = the same in 256 KiB segments, for plaintexts over 256 KiB)
//   6  2  flags (must be 0)
//   8  4  key id (uint32)
//  12 32  salt (random; HKDF salt for the per-message subkey)
//  44 12  nonce (random)
//  56 32  key commitment (HKDF output bytes 32..64)
//  88  n  ciphertext
//  88+n 16 GCM tag
// Algorithm 2: the body is segments ct_i || tag_i of 256 KiB of plaintext each (the last one
// shorter, never empty); segment i uses nonce XOR uint32be(i) in bytes 8..12 and AAD that also
// binds the total plaintext length, so dropping, reordering or cutting segments fails.
export const MAGIC: Uint8Array = Uint8Array.of(0x89, 0x4d, 0x4b, 0x43);
export const FORMAT_VERSION = 1;
export const ALG_HKDF_SHA256_AES_256_GCM = 1;
export const ALG_HKDF_SHA256_AES_256_GCM_SEGMENTED = 2;
export type Algorithm = typeof ALG_HKDF_SHA256_AES_256_GCM | typeof ALG_HKDF_SHA256_AES_256_GCM_SEGMENTED;
/** Plaintext bytes per segment (algorithm 2); larger plaintexts are sealed segmented. */
export const SEGMENT_SIZE = 262_144;

export const OFFSET_VERSION = 4;
export const OFFSET_ALG = 5;
export const OFFSET_FLAGS = 6;
export const OFFSET_KEY_ID = 8;
export const OFFSET_SALT = 12;
export const OFFSET_NONCE = 44;
export const OFFSET_COMMITMENT = 56;
export const HEADER_LENGTH = 88;

export const PREFIX_LENGTH = 12; // magic..key id
export const INFO_LENGTH = 44; // magic..salt: the HKDF-Expand info
export const SALT_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const COMMITMENT_LENGTH = 32;
export const TAG_LENGTH = 16;
/** Smallest valid envelope: header and tag around an empty plaintext. */
export const MIN_ENVELOPE_LENGTH: number = HEADER_LENGTH + TAG_LENGTH;

/**
 * A parsed envelope: the header fields read, the rest left in place. The byte fields (info,
 * salt, nonce, commitment, body) are read at their offsets from `bytes` by whoever needs them,
 * so opening builds only the views node:crypto needs (a typed-array view costs 1-2 µs when
 * the caches are cold, as they are right after a database round trip).
 */
export interface ParsedEnvelope {
  algorithm: Algorithm;
  keyId: number;
  /** The whole envelope, as a plain Uint8Array view of the input's memory (never a Buffer). */
  bytes: Uint8Array;
}

/** Writes magic..key id into `out[0..12)`. */
export function writePrefix(out: Uint8Array, keyId: number, algorithm: Algorithm): void {
  out.set(MAGIC, 0);
  out[OFFSET_VERSION] = FORMAT_VERSION;
  out[OFFSET_ALG] = algorithm;
  out[OFFSET_FLAGS] = 0;
  out[OFFSET_FLAGS + 1] = 0;
  writeUint32(out, OFFSET_KEY_ID, keyId);
}

function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = value >>> 16;
  out[offset + 2] = value >>> 8;
  out[offset + 3] = value;
}

/** uint64be of a safe integer (lengths), without BigInt or a DataView. */
function writeUint64(out: Uint8Array, offset: number, value: number): void {
  writeUint32(out, offset, Math.floor(value / 0x1_0000_0000));
  writeUint32(out, offset + 4, value >>> 0);
}

/**
 * Reads and validates the header in a fixed order: magic, version, algorithm, flags, length.
 * Each field is checked as soon as its byte is present, so a changed version byte reports
 * UNSUPPORTED_VERSION however short the input is; nothing is decrypted here.
 * @throws NotAnEnvelopeError, UnsupportedFormatError, TruncatedError
 */
export function parseEnvelope(input: Uint8Array): ParsedEnvelope {
  // A Node Buffer (what pg and NATS hand over) makes every subarray below a Buffer, which costs
  // several times a plain view to build; one plain view of the same memory up front avoids that.
  const bytes =
    Object.getPrototypeOf(input) === Uint8Array.prototype
      ? input
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const magicSeen = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < magicSeen; i++) {
    if (bytes[i] !== MAGIC[i]) throw new NotAnEnvelopeError();
  }
  if (bytes.length <= OFFSET_VERSION) throw new TruncatedError(MIN_ENVELOPE_LENGTH, bytes.length, "envelope");
  const version = bytes[OFFSET_VERSION] ?? 0;
  if (version !== FORMAT_VERSION) {
    throw new UnsupportedFormatError(
      "UNSUPPORTED_VERSION",
      `unsupported envelope version ${version}: expected ${FORMAT_VERSION}` +
        (version > FORMAT_VERSION ? " (written by a newer @mk/crypto?)" : ""),
    );
  }
  if (bytes.length <= OFFSET_ALG) throw new TruncatedError(MIN_ENVELOPE_LENGTH, bytes.length, "envelope");
  const alg = bytes[OFFSET_ALG] ?? 0;
  if (alg !== ALG_HKDF_SHA256_AES_256_GCM && alg !== ALG_HKDF_SHA256_AES_256_GCM_SEGMENTED) {
    throw new UnsupportedFormatError(
      "UNSUPPORTED_ALGORITHM",
      `unsupported envelope algorithm 0x${alg.toString(16).padStart(2, "0")}: expected 0x01 or 0x02 (HKDF-SHA256 + AES-256-GCM)`,
    );
  }
  if (bytes.length < OFFSET_KEY_ID) throw new TruncatedError(MIN_ENVELOPE_LENGTH, bytes.length, "envelope");
  const flags = ((bytes[OFFSET_FLAGS] ?? 0) << 8) | (bytes[OFFSET_FLAGS + 1] ?? 0);
  if (flags !== 0) {
    throw new UnsupportedFormatError(
      "UNKNOWN_FLAGS",
      `unknown envelope flags 0x${flags.toString(16).padStart(4, "0")}: expected 0x0000`,
    );
  }
  if (bytes.length < MIN_ENVELOPE_LENGTH) throw new TruncatedError(MIN_ENVELOPE_LENGTH, bytes.length, "envelope");
  const keyId =
    (((bytes[OFFSET_KEY_ID] ?? 0) << 24) |
      ((bytes[OFFSET_KEY_ID + 1] ?? 0) << 16) |
      ((bytes[OFFSET_KEY_ID + 2] ?? 0) << 8) |
      (bytes[OFFSET_KEY_ID + 3] ?? 0)) >>>
    0;
  return { algorithm: alg, keyId, bytes };
}

/** True when `bytes` starts with the envelope magic (cheap sniffing; proves nothing else). */
export function hasEnvelopeMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * AAD for the AEAD: header || uint64be(len(associatedData)) || associatedData, where the header
 * is `envelope[0..88)` (the envelope itself or just its header; no view of it is needed).
 * The header is fixed-length per version and the caller's part is length-prefixed, so no
 * (header, associatedData) pair can be read as another.
 */
export function buildAad(
  envelope: Uint8Array,
  associatedData: Uint8Array | undefined,
  plaintextLength?: number,
): Uint8Array {
  const adLength = associatedData?.length ?? 0;
  const aad = new Uint8Array(HEADER_LENGTH + 8 + adLength + (plaintextLength === undefined ? 0 : 8));
  // 88 bytes: a loop is cheaper than building a subarray view to hand to set().
  for (let i = 0; i < HEADER_LENGTH; i++) aad[i] = envelope[i] ?? 0;
  writeUint64(aad, HEADER_LENGTH, adLength);
  if (associatedData !== undefined) aad.set(associatedData, HEADER_LENGTH + 8);
  // Algorithm 2 only: every segment authenticates the total length, so a cut at a segment boundary fails.
  if (plaintextLength !== undefined) writeUint64(aad, HEADER_LENGTH + 8 + adLength, plaintextLength);
  return aad;
}

/** Segment count for a segmented plaintext of `length` bytes. */
export function segmentCount(length: number): number {
  return Math.ceil(length / SEGMENT_SIZE);
}

/**
 * Plaintext length of a segmented body (ciphertext || tag per segment), refusing lengths no
 * sealer writes: fewer than two segments, or an empty last one. Such a body was cut or padded,
 * so it is an {@link AuthenticationError} like any other tampering past the header.
 */
export function segmentedPlaintextLength(sealedLength: number): number {
  const count = Math.ceil(sealedLength / (SEGMENT_SIZE + TAG_LENGTH));
  const last = sealedLength - (count - 1) * (SEGMENT_SIZE + TAG_LENGTH);
  if (count < 2 || last <= TAG_LENGTH) {
    throw new AuthenticationError(`segmented envelope body of ${sealedLength} bytes is not a whole number of segments`);
  }
  return sealedLength - count * TAG_LENGTH;
}

/** Nonce of segment `index`: the envelope nonce with uint32be(index) XORed into bytes 8..12. */
export function segmentNonce(nonce: Uint8Array, index: number): Uint8Array {
  const out = Uint8Array.from(nonce);
  const view = new DataView(out.buffer);
  view.setUint32(8, view.getUint32(8, false) ^ index, false);
  return out;
}
