/**
 * Something that seals bytes so that only the holder of the key can open them,
 * and notices any change to what it sealed.
 *
 * `associatedData` is authenticated but not encrypted: a ciphertext opens only
 * with the exact associated data it was sealed with (mk's state store passes
 * the service name, so a file copied to another service's name fails to open).
 */
export interface Crypter {
  /** Seals `plaintext`; callers never handle nonces. */
  encrypt(plaintext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array>;
  /**
   * Opens what {@link Crypter.encrypt} sealed.
   * @throws CryptoError on a wrong key, tampered or truncated input, or other associated data.
   */
  decrypt(ciphertext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional: true when `ciphertext` (already opened by {@link Crypter.decrypt}) was sealed
   * under a key other than the one that seals now, so a store should seal it again at its
   * next save. `AesGcmCrypter` implements it from the key id in the envelope header.
   */
  needsRewrap?(ciphertext: Uint8Array): boolean;
}
