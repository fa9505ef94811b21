// The KV value: a 12-byte header (magic "mk", format 1, reserved, fencing epoch) before the sealed state.
import { NatsStoreError } from "./errors.ts";

/** Header bytes before the sealed state in each KV value. */
export const HEADER_LENGTH = 12;
const FORMAT = 1;

/**
 * Builds the value stored under a service's key: `"mk"`, format byte, one reserved byte,
 * the fencing epoch as an unsigned 64-bit big-endian integer, then the sealed bytes. The
 * epoch sits outside the seal so the store can keep the highest epoch without opening the
 * state; the seal covers the state, its version and the service name.
 */
export function encodeValue(epoch: number, sealed: Uint8Array): Uint8Array {
  const value = new Uint8Array(HEADER_LENGTH + sealed.length);
  value[0] = 0x6d; // "m"
  value[1] = 0x6b; // "k"
  value[2] = FORMAT;
  new DataView(value.buffer).setBigUint64(4, BigInt(epoch));
  value.set(sealed, HEADER_LENGTH);
  return value;
}

/**
 * Splits a stored value into its epoch and sealed bytes.
 * @throws NatsStoreError `STATE_CORRUPT` (not an mk value) or `STATE_UNSUPPORTED_VERSION` (a newer format).
 */
export function decodeValue(value: Uint8Array, name: string, where: string): { epoch: number; sealed: Uint8Array } {
  if (value.length < HEADER_LENGTH || value[0] !== 0x6d || value[1] !== 0x6b) {
    throw new NatsStoreError(
      "STATE_CORRUPT",
      `state of "${name}" in ${where} is corrupt: the value (${value.length} bytes) does not start with an mk header`,
      { service: name },
    );
  }
  if (value[2] !== FORMAT) {
    throw new NatsStoreError(
      "STATE_UNSUPPORTED_VERSION",
      `state of "${name}" in ${where} was written in value format ${String(value[2])}; this build reads format ${FORMAT}`,
      { service: name },
    );
  }
  const epoch = new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(4);
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new NatsStoreError(
      "STATE_CORRUPT",
      `state of "${name}" in ${where} is corrupt: epoch ${epoch} is out of range`,
      {
        service: name,
      },
    );
  }
  return { epoch: Number(epoch), sealed: value.subarray(HEADER_LENGTH) };
}

/** KV keys allow `[-/_=.A-Za-z0-9]` but no empty token: service names (which never hold `=`) map `.` to `=`. */
export function keyOf(name: string): string {
  return name.replaceAll(".", "=");
}

/** The service name of a KV key written by {@link keyOf}. */
export function nameOf(key: string): string {
  return key.replaceAll("=", ".");
}
