export type { Crypter } from "./crypter.ts";
export {
  AuthenticationError,
  CryptoError,
  InvalidInputError,
  KdfParamsError,
  KeySizeError,
  NotAnEnvelopeError,
  TruncatedError,
  UnknownKeyError,
  UnsupportedFormatError,
} from "./errors.ts";
export type { CryptoErrorCode } from "./errors.ts";
