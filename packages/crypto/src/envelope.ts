import { clean, randomBytes } from "@noble/ciphers/utils.js";
import { gcmOpen, gcmSeal, type CipherBackend } from "./cipher-backend.ts";
import {
  HEADER_LENGTH,
  INFO_LENGTH,
  NONCE_LENGTH,
  OFFSET_COMMITMENT,
  OFFSET_NONCE,
  OFFSET_SALT,
  SALT_LENGTH,
  buildAad,
  writePrefix,
  type ParsedEnvelope,
} from "./envelope-format.ts";
import { AuthenticationError, InvalidInputError } from "./errors.ts";
import { constantTimeEqual, type SubkeyDeriver } from "./subkey.ts";

/**
 * Source of the salt and nonce (one call for salt || nonce, 44 bytes: one CSPRNG call costs
 * about as much as HKDF here). Tests inject a fixed one to compare backends byte for byte.
 */
export type RandomSource = (length: number) => Uint8Array;

/** Seals one message into a v1 envelope under the master key behind `deriver` (whose id is `keyId`). */
export async function sealEnvelope(
  backend: CipherBackend,
  deriver: SubkeyDeriver,
  keyId: number,
  plaintext: Uint8Array,
  associatedData: Uint8Array | undefined,
  random: RandomSource = randomBytes,
): Promise<Uint8Array> {
  const header = new Uint8Array(HEADER_LENGTH);
  writePrefix(header, keyId);
  const fresh = random(SALT_LENGTH + NONCE_LENGTH);
  // A short read from the random source would leave zeros in the header: refuse instead.
  if (fresh.length !== SALT_LENGTH + NONCE_LENGTH) {
    throw new InvalidInputError(`random source returned ${fresh.length} bytes, expected ${SALT_LENGTH + NONCE_LENGTH}`);
  }
  // Salt and nonce are adjacent in the header (offsets 12 and 44).
  header.set(fresh, OFFSET_SALT);
  const nonce = header.subarray(OFFSET_NONCE, OFFSET_NONCE + NONCE_LENGTH);
  const subkey = deriver.derive(header.subarray(0, INFO_LENGTH));
  header.set(subkey.commitment, OFFSET_COMMITMENT);
  try {
    const sealed = await gcmSeal(backend, subkey.key, nonce, buildAad(header, associatedData), plaintext);
    const out = new Uint8Array(HEADER_LENGTH + sealed.length);
    out.set(header, 0);
    out.set(sealed, HEADER_LENGTH);
    return out;
  } finally {
    clean(subkey.key, subkey.commitment);
  }
}

/**
 * Opens a parsed envelope with the master key its key id selected. The key commitment is
 * checked before any AES work, so a wrong key fails fast and unambiguously (and a
 * ciphertext cannot be made to open under two keys, unlike bare GCM).
 * @throws AuthenticationError
 */
export async function openEnvelope(
  backend: CipherBackend,
  deriver: SubkeyDeriver,
  envelope: ParsedEnvelope,
  associatedData: Uint8Array | undefined,
): Promise<Uint8Array> {
  const subkey = deriver.derive(envelope.info);
  try {
    if (!constantTimeEqual(subkey.commitment, envelope.commitment)) {
      throw new AuthenticationError(
        `key commitment mismatch for key id ${envelope.keyId}: wrong key, or the envelope header was changed`,
      );
    }
    return await gcmOpen(backend, subkey.key, envelope.nonce, buildAad(envelope.header, associatedData), envelope.sealed);
  } finally {
    clean(subkey.key, subkey.commitment);
  }
}
