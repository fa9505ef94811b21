import { constants } from "node:fs";
import { open, readFile, rename, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  AesGcmCrypter,
  createScryptParams,
  deriveKeyFromPassphrase,
  parseScryptParams,
  serializeScryptParams,
  type KeyEntry,
} from "@mk/crypto";
import type { KeySource } from "../config/types.ts";
import { describeError, KeyError } from "../errors.ts";
import { parseKey } from "./parse-key.ts";

/** The default key source of a config without `key`. */
export const DEFAULT_KEY_SOURCE: KeySource = { env: "MK_STATE_KEY" };

/** Largest key file read (a key is at most 71 characters in text form). */
const MAX_KEY_FILE = 4096;

/** Where a key source is read, for one-line messages. */
export function describeKeySource(source: KeySource): string {
  if ("env" in source) return `environment variable ${source.env}`;
  if ("file" in source) return `key file ${source.file}`;
  return `passphrase in ${source.passphraseEnv}`;
}

/** What {@link resolveKey} needs besides the source. */
export interface ResolveContext {
  /** Relative key file and params paths are taken from here (the config's folder). */
  dir: string;
  env: NodeJS.ProcessEnv;
  /**
   * Asked before a passphrase's scrypt params file is created: only when nothing is stored
   * yet, else a lost params file would be silently replaced and every state lost.
   */
  mayCreateParams: () => Promise<boolean>;
}

/**
 * The key bytes a source gives.
 * @throws {KeyError} `KEY_MISSING` (unset variable, missing file), `KEY_INVALID` (wrong size or form),
 *   `KEY_FILE_UNSAFE` (a key file others can read, or owned by another user).
 */
export async function resolveKey(source: KeySource, context: ResolveContext): Promise<KeyEntry & { key: Uint8Array }> {
  const id = source.id ?? 0;
  if ("env" in source) {
    const text = context.env[source.env];
    if (text === undefined || text === "") {
      throw new KeyError("KEY_MISSING", `no state key: environment variable ${source.env} is not set`, {
        hint: `export ${source.env}=<16, 24 or 32 characters, hex:... or base64:...>`,
      });
    }
    return { id, key: parseKey(text, `environment variable ${source.env}`) };
  }
  if ("file" in source) {
    const path = resolve(context.dir, source.file);
    return { id, key: parseKey(await readPrivateFile(path), `key file ${path}`) };
  }
  const passphrase = context.env[source.passphraseEnv];
  if (passphrase === undefined || passphrase === "") {
    throw new KeyError("KEY_MISSING", `no passphrase: environment variable ${source.passphraseEnv} is not set`);
  }
  const paramsPath = resolve(context.dir, source.params ?? "mk.kdf.json");
  let paramsText: string | undefined;
  try {
    paramsText = await readFile(paramsPath, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new KeyError("KEY_INVALID", `cannot read scrypt params ${paramsPath}: ${describeError(cause)}`, { cause });
    }
  }
  let params;
  try {
    params = paramsText === undefined ? undefined : parseScryptParams(paramsText.trim());
  } catch (cause) {
    throw new KeyError("KEY_INVALID", `scrypt params ${paramsPath}: ${describeError(cause)}`, { cause });
  }
  if (params === undefined) {
    if (!(await context.mayCreateParams())) {
      throw new KeyError(
        "KEY_MISSING",
        `scrypt params ${paramsPath} are missing but states exist: the passphrase alone cannot derive their key`,
        { hint: "restore the params file (it holds the salt) from a backup" },
      );
    }
    params = createScryptParams();
    const temp = `${paramsPath}.tmp-${process.pid}`;
    await writeFile(temp, `${serializeScryptParams(params)}\n`, { mode: 0o600, flag: "wx" });
    await rename(temp, paramsPath);
  }
  return { id, key: await deriveKeyFromPassphrase(passphrase, params) };
}

/** The primary key and the decrypt-only older keys of a config, as one crypter. */
export async function makeCrypter(
  primary: KeySource,
  previous: readonly KeySource[],
  context: ResolveContext,
): Promise<AesGcmCrypter> {
  const main = await resolveKey(primary, context);
  const older: KeyEntry[] = [];
  for (const source of previous) older.push(await resolveKey(source, context));
  try {
    return new AesGcmCrypter(main.key, { keyId: main.id, previousKeys: older });
  } catch (cause) {
    throw new KeyError("KEY_INVALID", `keys: ${describeError(cause)}`, {
      cause,
      hint: "give every key in key and previousKeys its own id",
    });
  } finally {
    main.key.fill(0);
  }
}

/**
 * Reads a key file after checking, on the open descriptor, that it is a regular file owned by
 * this user with no access for group or others (ssh's rule for private keys).
 */
async function readPrivateFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new KeyError(
      code === "ENOENT" ? "KEY_MISSING" : "KEY_FILE_UNSAFE",
      code === "ENOENT"
        ? `key file ${path} does not exist`
        : code === "ELOOP"
          ? `key file ${path} is a symbolic link: expected the file itself`
          : `cannot open key file ${path}: ${describeError(cause)}`,
      { cause },
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new KeyError("KEY_FILE_UNSAFE", `key file ${path} is not a regular file`);
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      throw new KeyError("KEY_FILE_UNSAFE", `key file ${path} is owned by uid ${info.uid}, expected you (uid ${uid})`, {
        hint: `chown ${uid} ${path}`,
      });
    }
    if ((info.mode & 0o077) !== 0) {
      throw new KeyError(
        "KEY_FILE_UNSAFE",
        `key file ${path} has mode 0${(info.mode & 0o777).toString(8)}: expected no access for group and others (0600 or 0400)`,
        { hint: `chmod 600 ${path}` },
      );
    }
    if (info.size > MAX_KEY_FILE) {
      throw new KeyError(
        "KEY_INVALID",
        `key file ${path} has ${info.size} bytes: expected a key (at most ${MAX_KEY_FILE})`,
      );
    }
    const text = await handle.readFile("utf8");
    return text.replace(/\r?\n$/, "");
  } finally {
    await handle.close();
  }
}
