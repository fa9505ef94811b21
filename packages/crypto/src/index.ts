export type { Crypter } from "./crypter.ts";
export { AesGcmCrypter } from "./aes-gcm-crypter.ts";
export type { AesGcmCrypterOptions } from "./aes-gcm-crypter.ts";
export { LegacyAesGcmCrypter } from "./legacy-aes-gcm-crypter.ts";
export type { LegacyAesGcmCrypterOptions } from "./legacy-aes-gcm-crypter.ts";
export type { KeyEntry } from "./keyring.ts";
export type { KeyInput } from "./key-material.ts";
export { DEFAULT_WEBCRYPTO_THRESHOLD } from "./cipher-backend.ts";
export type { BackendOptions, CipherBackend, CipherBackendOption } from "./cipher-backend.ts";
export {
  createScryptParams,
  deriveKeyFromPassphrase,
  parseScryptParams,
  SCRYPT_LIMITS,
  serializeScryptParams,
  validateScryptParams,
} from "./passphrase.ts";
export type { ScryptCostOptions, ScryptParams } from "./passphrase.ts";
export { hasEnvelopeMagic, MIN_ENVELOPE_LENGTH } from "./envelope-format.ts";
export {
  AuthenticationError,
  CryptoError,
  InvalidArgumentError,
  KdfParamsError,
  KeySizeError,
  NotAnEnvelopeError,
  TruncatedError,
  UnknownKeyError,
  UnsupportedFormatError,
} from "./errors.ts";
export type { CryptoErrorCode } from "./errors.ts";
