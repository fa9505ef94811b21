import { randomBytes } from "@noble/ciphers/utils.js";
import { clean } from "@noble/ciphers/utils.js";
import { gcmOpen, gcmSeal, type CipherBackend } from "./cipher-backend.ts";
import {
  HEADER_LENGTH,
  NONCE_LENGTH,
  OFFSET_COMMITMENT,
  OFFSET_NONCE,
  OFFSET_SALT,
  PREFIX_LENGTH,
  SALT_LENGTH,
  buildAad,
  writePrefix,
  type ParsedEnvelope,
} from "./envelope-format.ts";
import { AuthenticationError, InvalidInputError } from "./errors.ts";
import { constantTimeEqual, deriveSubkey } from "./subkey.ts";

/** Source of salt and nonce bytes; tests inject a fixed one to compare backends byte for byte. */
export type RandomSource = (length: number) => Uint8Array;

/** Seals one message into a v1 envelope under `master` (whose id is `keyId`). */
export async function sealEnvelope(
  backend: CipherBackend,
  master: Uint8Array,
  keyId: number,
  plaintext: Uint8Array,
  associatedData: Uint8Array | undefined,
  random: RandomSource = randomBytes,
): Promise<Uint8Array> {
  const header = new Uint8Array(HEADER_LENGTH);
  writePrefix(header, keyId);
  const salt = random(SALT_LENGTH);
  const nonce = random(NONCE_LENGTH);
  // A short read from the random source would leave zeros in the header: refuse instead.
  if (salt.length !== SALT_LENGTH || nonce.length !== NONCE_LENGTH) {
    throw new InvalidInputError(`random source returned ${salt.length}/${nonce.length} bytes, expected ${SALT_LENGTH}/${NONCE_LENGTH}`);
  }
  header.set(salt, OFFSET_SALT);
  header.set(nonce, OFFSET_NONCE);
  const subkey = deriveSubkey(master, salt, header.subarray(0, PREFIX_LENGTH));
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
  master: Uint8Array,
  envelope: ParsedEnvelope,
  associatedData: Uint8Array | undefined,
): Promise<Uint8Array> {
  const subkey = deriveSubkey(master, envelope.salt, envelope.prefix);
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
