// sealState/openState: the name-bound sealed document `{"mk":1,"name","version","state"}` of the shared-engine stores.
import { describeThrown } from "@mk/common";
import type { Crypter } from "@mk/crypto";
import { inspectParsed } from "./encoding.ts";
import { StateError, errnoOf } from "./errors.ts";

/** Format of the plaintext a shared backend seals: `{"mk":1,"name":…,"version":…,"state":…}`. */
export const SEALED_FORMAT = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** What {@link openState} hands back. */
export interface OpenedState {
  state: unknown;
  version: string | undefined;
  /** The crypter says the bytes were sealed under an older key: seal again at the next save. */
  needsRewrap: boolean;
}

function messageOf(error: unknown): string {
  // A crypter is user code: what it throws may not even be printable.
  return describeThrown(error);
}

/**
 * Seals an encoded state (from `encodeState`) for `name`: the document names the
 * service and carries the version, and the crypter binds the name as associated data,
 * so bytes copied to another name do not open.
 * @param where what the bytes are kept in, for messages (e.g. `PostgreSQL table "mk_state"`).
 * @throws StateError `STATE_ENCRYPT_FAILED`, or `STATE_TOO_LARGE` when the sealed bytes exceed `maxBytes`.
 */
export async function sealState(
  crypter: Crypter,
  name: string,
  stateJson: string,
  version: string | undefined,
  maxBytes: number,
): Promise<Uint8Array> {
  const versionPart = version === undefined ? "" : `,"version":${JSON.stringify(version)}`;
  const plaintext = encoder.encode(
    `{"mk":${SEALED_FORMAT},"name":${JSON.stringify(name)}${versionPart},"state":${stateJson}}`,
  );
  let sealed: Uint8Array;
  try {
    sealed = await crypter.encrypt(plaintext, encoder.encode(name));
  } catch (cause) {
    throw new StateError("STATE_ENCRYPT_FAILED", `sealing state of "${name}" failed: ${messageOf(cause)}`, {
      service: name,
      cause,
    });
  }
  if (sealed.length > maxBytes) {
    throw new StateError(
      "STATE_TOO_LARGE",
      `state of "${name}" is too large: ${sealed.length} sealed bytes, over the ${maxBytes}-byte cap (option maxBytes)`,
      { service: name },
    );
  }
  return sealed;
}

/**
 * Opens what {@link sealState} sealed for `name` and checks the document.
 * @param where what the bytes were read from, for messages.
 * @throws StateError `STATE_TOO_LARGE`, `STATE_DECRYPT_FAILED` (wrong key, a changed byte, bytes
 * sealed for another name), `STATE_CORRUPT` or `STATE_UNSUPPORTED_VERSION`.
 */
export async function openState(
  crypter: Crypter,
  name: string,
  sealed: Uint8Array,
  maxBytes: number,
  maxDepth: number,
  where: string,
): Promise<OpenedState> {
  if (sealed.length > maxBytes) {
    throw new StateError(
      "STATE_TOO_LARGE",
      `state of "${name}" in ${where} is too large: ${sealed.length} bytes, over the ${maxBytes}-byte cap (option maxBytes)`,
      { service: name },
    );
  }
  let plaintext: Uint8Array;
  try {
    plaintext = await crypter.decrypt(sealed, encoder.encode(name));
  } catch (cause) {
    const code = errnoOf(cause);
    throw new StateError(
      "STATE_DECRYPT_FAILED",
      `state of "${name}" in ${where} cannot be opened: ${typeof code === "string" ? `${code}: ` : ""}${messageOf(cause)}` +
        " (wrong key, changed bytes, or bytes copied from another service)",
      { service: name, cause },
    );
  }
  const corrupt = (reason: string, cause?: unknown): StateError =>
    new StateError("STATE_CORRUPT", `state of "${name}" in ${where} is corrupt: ${reason}`, { service: name, cause });
  let doc: unknown;
  try {
    doc = JSON.parse(decoder.decode(plaintext));
  } catch (cause) {
    throw corrupt("the opened content is not valid UTF-8 JSON", cause);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw corrupt("expected a state document object");
  const record = doc as Record<string, unknown>;
  const format = record["mk"];
  if (typeof format === "number" && Number.isInteger(format) && format > SEALED_FORMAT) {
    throw new StateError(
      "STATE_UNSUPPORTED_VERSION",
      `state of "${name}" in ${where} was written in format ${format} by a newer mk; this build reads format ${SEALED_FORMAT}`,
      { service: name },
    );
  }
  if (format !== SEALED_FORMAT) throw corrupt(`expected "mk": ${SEALED_FORMAT}, got ${JSON.stringify(format)}`);
  if (record["name"] !== name) {
    throw corrupt(`the document is for service ${JSON.stringify(record["name"])}, expected "${name}"`);
  }
  const version = record["version"];
  if (version !== undefined && typeof version !== "string") {
    throw corrupt(`expected a string version, got ${JSON.stringify(version)}`);
  }
  if (!("state" in record)) throw corrupt("the document has no state");
  const problem = inspectParsed(record["state"], maxDepth);
  if (problem !== undefined) throw corrupt(`refused: the state contains ${problem}`);
  const rewrap = (crypter as { needsRewrap?: (bytes: Uint8Array) => boolean }).needsRewrap;
  return { state: record["state"], version, needsRewrap: typeof rewrap === "function" && rewrap.call(crypter, sealed) };
}
