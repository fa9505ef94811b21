import { lstat, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { LegacyAesGcmCrypter } from "@mk/crypto";
import type { Logger } from "@mk/logger";
import type { StateStore } from "@mk/state";
import { DemoError, describeError } from "./errors.ts";

/** The services whose state the demo keeps; `--reset` and `--import-legacy` touch these files only. */
export const DEMO_SERVICES: readonly string[] = ["echo", "logger"];

/** A reference state file holds one small JSON value; anything this big is not one. */
const LEGACY_MAX_BYTES = 1024 * 1024;

/** `<dir>/<name>.state`: the layout of `FileStateStore` and of the reference. */
export function stateFile(dir: string, name: string): string {
  return join(dir, `${name}.state`);
}

/**
 * Deletes `echo.state` and `logger.state` in `dir` (nothing else) and says
 * which were there.
 */
export async function resetState(dir: string, log: Logger): Promise<void> {
  const deleted: string[] = [];
  for (const name of DEMO_SERVICES) {
    const file = stateFile(dir, name);
    if (!(await exists(file))) continue;
    await rm(file);
    deleted.push(`${name}.state`);
  }
  if (deleted.length === 0) log.info("--reset: no saved state in %s, starting from scratch", dir);
  else log.info("--reset: deleted %s in %s, starting from scratch", deleted.join(" and "), dir);
}

/**
 * Reads the demo's services' state files written by the reference Go program
 * (AES-GCM `nonce || ciphertext || tag`, JSON inside) from `legacyDir`, and
 * saves them through `store`, i.e. in mk's own format. `legacyDir` is only read.
 * @throws {DemoError} when there is nothing to import, a file does not open
 * with `legacyKey`, or the state dir already holds a state it would overwrite.
 */
export async function importLegacyState(
  legacyDir: string,
  legacyKey: Uint8Array,
  store: StateStore,
  stateDir: string,
  log: Logger,
): Promise<void> {
  const crypter = new LegacyAesGcmCrypter(legacyKey);
  let imported = 0;
  for (const name of DEMO_SERVICES) {
    const source = stateFile(legacyDir, name);
    if (!(await exists(source))) continue;
    if (await store.exists(name)) {
      throw new DemoError(
        `--import-legacy: ${stateFile(stateDir, name)} already exists, not replacing it with ${source}`,
        {
          hint: "add --reset to replace the demo's saved state with the legacy one",
        },
      );
    }
    const state = await readLegacyFile(source, crypter);
    await store.save(name, state);
    imported += 1;
    log.info("imported reference-format %s: %j, saved to %s in mk's format", source, state, stateFile(stateDir, name));
  }
  if (imported === 0) {
    throw new DemoError(`--import-legacy: no ${DEMO_SERVICES.map((n) => `${n}.state`).join(" or ")} in ${legacyDir}`, {
      hint: "give the directory the reference program wrote its state files to",
    });
  }
}

async function readLegacyFile(file: string, crypter: LegacyAesGcmCrypter): Promise<unknown> {
  const info = await lstat(file);
  if (!info.isFile()) throw new DemoError(`--import-legacy: ${file} is not a regular file`);
  if (info.size > LEGACY_MAX_BYTES) {
    throw new DemoError(`--import-legacy: ${file} is ${info.size} bytes, too large for a reference state file`);
  }
  const sealed = new Uint8Array(await readFile(file));
  let plaintext: Uint8Array;
  try {
    plaintext = await crypter.decrypt(sealed);
  } catch (error) {
    throw new DemoError(`--import-legacy: cannot decrypt ${file}: ${describeError(error)}`, {
      hint: "wrong --legacy-key? the reference program used 1234567890123456 unless you changed it; the file was left in place",
      cause: error,
    });
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext)) as unknown;
  } catch (error) {
    throw new DemoError(`--import-legacy: ${file} decrypted but does not hold JSON: ${describeError(error)}`, {
      cause: error,
    });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw error;
  }
}
