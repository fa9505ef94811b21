import { extract } from "@noble/hashes/hkdf.js";
import { _HMAC } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { COMMITMENT_LENGTH, PREFIX_LENGTH, SALT_LENGTH } from "./envelope-format.ts";

const encoder = new TextEncoder();
/** HKDF-Extract salt: fixed, a domain label (RFC 5869 §3.1 allows a non-secret, reused salt). */
export const EXTRACT_SALT: Uint8Array = encoder.encode("mk/crypto v1 hkdf-extract");
/** Start of the HKDF-Expand info; the header prefix and the per-message salt follow it. */
export const INFO_LABEL: Uint8Array = encoder.encode("mk/crypto v1 hkdf-sha256 aes-256-gcm\0");
const SUBKEY_LENGTH = 32;
const HASH_LENGTH = 32;
const INFO_LENGTH = INFO_LABEL.length + PREFIX_LENGTH + SALT_LENGTH;
const COUNTER_1 = Uint8Array.of(1);
const COUNTER_2 = Uint8Array.of(2);

/** A one-message AES-256 key and the commitment that proves which master key made it. */
export interface Subkey {
  key: Uint8Array;
  commitment: Uint8Array;
}

type Hmac = _HMAC<ReturnType<typeof sha256.create>>;

/**
 * Per-message keys from one master key, by HKDF-SHA256 (RFC 5869):
 *   PRK = HKDF-Extract(salt = EXTRACT_SALT, IKM = master)              once per master key
 *   OKM = HKDF-Expand(PRK, info = INFO_LABEL || header[0..12) || salt, 64) per message
 *   key = OKM[0..32) (AES-256), commitment = OKM[32..64)
 * That is exactly `HKDF(master, EXTRACT_SALT, info, 64)`: the per-message random salt sits in
 * `info` rather than in the extract salt so the extract step and HMAC's keyed pad blocks are
 * computed once per master key, not per message (about 3x cheaper; see the README). Each
 * message gets a fresh 32-byte random salt, so each derived key seals exactly one message and
 * the GCM per-key limits (NIST SP 800-38D §8.3: 2^32 random nonces) never come into play.
 * Version, algorithm and key id are in `info`, so an edited header derives another key.
 */
export class SubkeyDeriver {
  readonly #base: Hmac;
  // Reused for every derivation (derive() is synchronous, so never shared by two calls):
  // saves allocating two SHA-256 states per HMAC.
  readonly #scratch: Hmac;

  constructor(master: Uint8Array) {
    const prk = extract(sha256, master, EXTRACT_SALT);
    this.#base = new _HMAC(sha256, prk);
    this.#scratch = this.#base.clone();
    prk.fill(0);
  }

  derive(prefix: Uint8Array, salt: Uint8Array): Subkey {
    const info = new Uint8Array(INFO_LENGTH);
    info.set(INFO_LABEL, 0);
    info.set(prefix, INFO_LABEL.length);
    info.set(salt, INFO_LABEL.length + PREFIX_LENGTH);
    const okm = new Uint8Array(SUBKEY_LENGTH + COMMITMENT_LENGTH);
    // RFC 5869 §2.3: T(1) = HMAC(PRK, info || 0x01), T(2) = HMAC(PRK, T(1) || info || 0x02).
    const t1 = okm.subarray(0, HASH_LENGTH);
    this.#base._cloneInto(this.#scratch).update(info).update(COUNTER_1).digestInto(t1);
    this.#base._cloneInto(this.#scratch).update(t1).update(info).update(COUNTER_2).digestInto(okm.subarray(HASH_LENGTH));
    info.fill(0);
    return { key: okm.subarray(0, SUBKEY_LENGTH), commitment: okm.subarray(SUBKEY_LENGTH) };
  }

  /** Wipes the keyed HMAC state (the PRK's pads); the deriver is unusable afterwards. */
  destroy(): void {
    this.#base.destroy();
    this.#scratch.destroy();
  }
}

/** Constant-time equality for equal-length secret-derived values. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
