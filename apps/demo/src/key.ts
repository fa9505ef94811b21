import { Buffer } from "node:buffer";
import { DemoError } from "./errors.ts";

/**
 * The fixed key used when neither `MK_STATE_KEY` nor `--key` is given. It is
 * public (it is in this file), so it protects nothing: the demo warns.
 */
export const DEMO_KEY = "mk-demo-key-for-the-demo-only-00";

/** The key the reference Go program hard-coded, used to read its files unless `--legacy-key` says otherwise. */
export const REFERENCE_KEY = "1234567890123456";

const SIZES = [16, 24, 32];

/**
 * Turns the text form of a key into its bytes.
 *
 * - `hex:<32, 48 or 64 hex digits>`
 * - `base64:<16, 24 or 32 bytes in base64>`
 * - anything else: the string's UTF-8 bytes, which must be 16, 24 or 32 bytes
 *   (the reference's form, e.g. `1234567890123456`).
 *
 * @throws {DemoError} when the text does not give 16, 24 or 32 bytes.
 */
export function parseKey(text: string, source: string): Uint8Array {
  let bytes: Uint8Array;
  if (text.startsWith("hex:")) {
    const digits = text.slice(4);
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) {
      throw keyError(source, `"hex:" must be followed by an even number of hex digits`);
    }
    bytes = new Uint8Array(Buffer.from(digits, "hex"));
  } else if (text.startsWith("base64:")) {
    const encoded = text.slice(7);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(encoded))
      throw keyError(source, `"base64:" is followed by characters outside base64`);
    bytes = new Uint8Array(Buffer.from(encoded, "base64"));
  } else {
    bytes = new TextEncoder().encode(text);
  }
  if (!SIZES.includes(bytes.length)) {
    throw keyError(source, `expected 16, 24 or 32 bytes, got ${bytes.length}`);
  }
  return bytes;
}

function keyError(source: string, reason: string): DemoError {
  return new DemoError(`invalid key in ${source}: ${reason}`, {
    hint: "give a text of 16, 24 or 32 UTF-8 bytes (e.g. 1234567890123456), hex:<64 hex digits> or base64:<32 bytes>",
    exitCode: 2,
  });
}
