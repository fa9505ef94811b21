import { Buffer } from "node:buffer";
import { KeyError } from "../errors.ts";

const SIZES = [16, 24, 32];

/** The forms a key may take, for messages. */
export const KEY_FORMS = "16, 24 or 32 characters, hex:<32, 48 or 64 hex digits> or base64:<16, 24 or 32 bytes>";

/**
 * The bytes of a key in text form: `hex:…`, `base64:…`, or the UTF-8 bytes of the text itself
 * (the reference's form, e.g. `1234567890123456`). `source` says where it came from, for the message.
 * @throws {KeyError} `KEY_INVALID` when it does not make 16, 24 or 32 bytes.
 */
export function parseKey(text: string, source: string): Uint8Array {
  let bytes: Uint8Array;
  if (text.startsWith("hex:")) {
    const digits = text.slice(4);
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) {
      throw invalid(source, '"hex:" must be followed by an even number of hex digits');
    }
    bytes = new Uint8Array(Buffer.from(digits, "hex"));
  } else if (text.startsWith("base64:")) {
    const encoded = text.slice(7);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(encoded))
      throw invalid(source, '"base64:" is followed by non-base64 characters');
    bytes = new Uint8Array(Buffer.from(encoded, "base64"));
  } else {
    bytes = new TextEncoder().encode(text);
  }
  if (!SIZES.includes(bytes.length)) throw invalid(source, `expected 16, 24 or 32 bytes, got ${bytes.length}`);
  return bytes;
}

function invalid(source: string, reason: string): KeyError {
  return new KeyError("KEY_INVALID", `invalid key in ${source}: ${reason}`, { hint: `give ${KEY_FORMS}` });
}
