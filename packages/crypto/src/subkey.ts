import { extract } from "@noble/hashes/hkdf.js";
import { _HMAC } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { COMMITMENT_LENGTH, INFO_LENGTH } from "./envelope-format.ts";
import { InvalidArgumentError } from "./errors.ts";

const encoder = new TextEncoder();
/** HKDF-Extract salt: fixed, a domain label (RFC 5869 §3.1 allows a non-secret, reused salt). */
export const EXTRACT_SALT: Uint8Array = encoder.encode("mk/crypto v1 hkdf-extract");
const SUBKEY_LENGTH = 32;
const HASH_LENGTH = 32;
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
 *   OKM = HKDF-Expand(PRK, info = header[0..44), 64)                 per message
 *   key = OKM[0..32) (AES-256), commitment = OKM[32..64)
 * header[0..44) is magic, version, algorithm, flags, key id and the random salt. This is
 * exactly `HKDF(master, EXTRACT_SALT, info, 64)`: the per-message salt sits in `info` rather
 * than in the extract salt so the extract step and HMAC's keyed pad blocks are computed once
 * per master key, not per message (2-3x cheaper measured; see the README), and 44 bytes of
 * info keep T(1) to one SHA-256 block. Each message gets a fresh 32-byte random salt, so each
 * derived key seals exactly one message and the GCM per-key limits (NIST SP 800-38D §8.3: 2^32 random nonces) never come into play.
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

  /** @param info header[0..44): magic through salt. */
  derive(info: Uint8Array): Subkey {
    if (info.length !== INFO_LENGTH)
      throw new InvalidArgumentError(`subkey info expected ${INFO_LENGTH} bytes, got ${info.length}`);
    const okm = new Uint8Array(SUBKEY_LENGTH + COMMITMENT_LENGTH);
    // RFC 5869 §2.3: T(1) = HMAC(PRK, info || 0x01), T(2) = HMAC(PRK, T(1) || info || 0x02).
    const t1 = okm.subarray(0, HASH_LENGTH);
    this.#base._cloneInto(this.#scratch).update(info).update(COUNTER_1).digestInto(t1);
    this.#base
      ._cloneInto(this.#scratch)
      .update(t1)
      .update(info)
      .update(COUNTER_2)
      .digestInto(okm.subarray(HASH_LENGTH));
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
