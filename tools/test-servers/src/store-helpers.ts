// Helpers the store packages' tests share: keys, unique names, typed rejections.
import { AesGcmCrypter } from "@mk/crypto";
import { StateError } from "@mk/state";

export const crypter: AesGcmCrypter = new AesGcmCrypter("0123456789abcdef0123456789abcdef");
export const otherKey: AesGcmCrypter = new AesGcmCrypter("fedcba9876543210fedcba9876543210");

let names = 0;
/** A name (table, bucket...) no other test in this process uses. */
export function uniqueName(prefix: string): string {
  names += 1;
  return `${prefix}_${process.pid}_${names}`;
}

/** The rejection of `promise`, checked to be a StateError. */
export async function rejection(promise: Promise<unknown>): Promise<StateError & Record<string, unknown>> {
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error("expected a rejection, the call resolved");
  if (!(outcome.error instanceof StateError)) {
    throw new Error(`expected a StateError, got ${String(outcome.error)}`, { cause: outcome.error });
  }
  return outcome.error as StateError & Record<string, unknown>;
}
