import { StateError } from "../errors.ts";
import { inspectParsed } from "../encoding.ts";

/** Format version of the plaintext document inside a state file. */
export const DOCUMENT_FORMAT = 1;

/** What a state file holds once decrypted. */
export interface StateDocument {
  state: unknown;
  version?: string;
  /** Strictly increasing per service; see the README on rollback detection. */
  generation: number;
  /** Highest fencing epoch saved for the service; `0` (and absent from the file) when none. */
  epoch: number;
}

/**
 * Builds the self-describing plaintext `{"mk":1,"name":…,"generation":…,"epoch":…,"version":…,"state":…}`
 * around already-encoded state JSON, so the state is stringified exactly once. The epoch
 * lives in the sealed document, so it is replaced atomically with the state it fences
 * (a crash leaves the old pair or the new one) and cannot be changed without the key.
 * Format 1 readers that predate `epoch` ignore the field; it is omitted when 0.
 */
export function encodeDocument(
  name: string,
  stateJson: string,
  generation: number,
  version: string | undefined,
  epoch: number,
): string {
  const versionPart = version === undefined ? "" : `,"version":${JSON.stringify(version)}`;
  const epochPart = epoch === 0 ? "" : `,"epoch":${epoch}`;
  return `{"mk":${DOCUMENT_FORMAT},"name":${JSON.stringify(name)},"generation":${generation}${epochPart}${versionPart},"state":${stateJson}}`;
}

/**
 * Parses and checks a decrypted document for `name`.
 * @throws StateError `STATE_CORRUPT` or `STATE_UNSUPPORTED_VERSION`.
 */
export function decodeDocument(text: string, name: string, maxDepth: number, path?: string): StateDocument {
  const fail = (reason: string, cause?: unknown): StateError =>
    new StateError("STATE_CORRUPT", `state of "${name}" is corrupt: ${reason}`, {
      service: name,
      path,
      cause,
    });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw fail("the decrypted content is not valid JSON", cause);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw fail("expected a state document object");
  const record = doc as Record<string, unknown>;
  const format = record["mk"];
  if (typeof format === "number" && Number.isInteger(format) && format > DOCUMENT_FORMAT) {
    throw new StateError(
      "STATE_UNSUPPORTED_VERSION",
      `state of "${name}" was written in format ${format} by a newer mk; this build reads format ${DOCUMENT_FORMAT}`,
      { service: name, path },
    );
  }
  if (format !== DOCUMENT_FORMAT) throw fail(`expected "mk": ${DOCUMENT_FORMAT}, got ${JSON.stringify(format)}`);
  if (record["name"] !== name) {
    throw fail(`the document is for service ${JSON.stringify(record["name"])}, expected "${name}"`);
  }
  const generation = record["generation"];
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 0) {
    throw fail(`expected a non-negative integer generation, got ${JSON.stringify(generation)}`);
  }
  const epoch = record["epoch"] ?? 0;
  if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 0) {
    throw fail(`expected a non-negative integer epoch, got ${JSON.stringify(epoch)}`);
  }
  const version = record["version"];
  if (version !== undefined && typeof version !== "string") {
    throw fail(`expected a string version, got ${JSON.stringify(version)}`);
  }
  if (!("state" in record)) throw fail("the document has no state");
  // The document itself is one level above the state.
  const problem = inspectParsed(record["state"], maxDepth);
  if (problem !== undefined) throw fail(`refused: the state contains ${problem}`);
  return { state: record["state"], generation, epoch, ...(version === undefined ? {} : { version }) };
}
