// Salt and nonce bytes drawn from the CSPRNG in batches: one getRandomValues call costs
// about 6-8 µs on Node 20 whatever the size (it is mostly call overhead), which was a
// sixth of a whole 4 KiB seal. Salts and nonces are public (they are written into the
// envelope header), so holding the next few in memory reveals nothing secret.
import { randomBytes } from "@noble/ciphers/utils.js";

const BATCH = 4096;
/** Requests above this go straight to the CSPRNG (they would drain the batch for little gain). */
const LARGEST_POOLED = 256;

let batch = new Uint8Array(0);
let offset = 0;

/**
 * `length` bytes from the CSPRNG, never handed out twice: each call copies a fresh slice
 * of the current batch and zeroes it there.
 */
export function pooledRandomBytes(length: number): Uint8Array {
  if (length > LARGEST_POOLED) return randomBytes(length);
  if (offset + length > batch.length) {
    batch = randomBytes(BATCH);
    offset = 0;
  }
  const out = batch.slice(offset, offset + length);
  batch.fill(0, offset, offset + length);
  offset += length;
  return out;
}
