import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { COMMITMENT_LENGTH } from "./envelope-format.ts";

const INFO_LABEL = new TextEncoder().encode("mk/crypto v1 hkdf-sha256 aes-256-gcm\0");
const SUBKEY_LENGTH = 32;

/** A one-message AES-256 key and the commitment that proves which master key made it. */
export interface Subkey {
  key: Uint8Array;
  commitment: Uint8Array;
}

/**
 * Per-message key: HKDF-SHA256(ikm = master key, salt = the envelope's random salt,
 * info = label || magic..key id), 64 bytes: [0,32) AES-256 key, [32,64) key commitment.
 * A fresh 32-byte salt per message means each derived key seals exactly one message,
 * so the GCM per-key limits (NIST SP 800-38D §8.3: 2^32 random nonces) never come into play.
 * Binding version, algorithm and key id into `info` means an edited header derives another key.
 */
export function deriveSubkey(master: Uint8Array, salt: Uint8Array, prefix: Uint8Array): Subkey {
  const info = new Uint8Array(INFO_LABEL.length + prefix.length);
  info.set(INFO_LABEL, 0);
  info.set(prefix, INFO_LABEL.length);
  const okm = hkdf(sha256, master, salt, info, SUBKEY_LENGTH + COMMITMENT_LENGTH);
  return { key: okm.subarray(0, SUBKEY_LENGTH), commitment: okm.subarray(SUBKEY_LENGTH) };
}

/** Constant-time equality for equal-length secrets-derived values. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
