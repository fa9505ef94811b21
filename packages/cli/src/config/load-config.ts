import { stat } from "node:fs/promises";
import { basename, dirname, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, describeError } from "../errors.ts";
import type { MkConfig } from "./types.ts";
import { validateConfig } from "./validate-config.ts";

/** The names `mk run` looks for, in this order, when no config path is given. */
export const CONFIG_NAMES: readonly string[] = ["mk.config.ts", "mk.config.mts", "mk.config.js", "mk.config.mjs"];

const TYPESCRIPT = new Set([".ts", ".mts", ".cts"]);

/** A loaded, checked config and where it came from. */
export interface LoadedConfig {
  config: MkConfig;
  /** Absolute path of the config file. */
  file: string;
  /** Its folder: relative paths in the config are taken from here. */
  dir: string;
}

/**
 * Finds the config file: `path` when given (a file, or a folder holding one of
 * {@link CONFIG_NAMES}), else the first of {@link CONFIG_NAMES} in `cwd`.
 * @throws {ConfigError} `CONFIG_NOT_FOUND`
 */
export async function findConfig(path: string | undefined, cwd: string): Promise<string> {
  const target = resolve(cwd, path ?? ".");
  const info = await stat(target).catch(() => undefined);
  if (info?.isFile() === true) return target;
  if (info?.isDirectory() === true) {
    for (const name of CONFIG_NAMES) {
      const candidate = resolve(target, name);
      if ((await stat(candidate).catch(() => undefined))?.isFile() === true) return candidate;
    }
  }
  const shownPath = path ?? cwd;
  throw new ConfigError(
    "CONFIG_NOT_FOUND",
    path ?? cwd,
    info === undefined && path !== undefined
      ? `config file ${shownPath} does not exist`
      : `no config in ${info?.isDirectory() === true ? target : shownPath}: expected one of ${CONFIG_NAMES.join(", ")}`,
    { hint: "create mk.config.js (see `mk run --help`) or give its path: mk run path/to/mk.config.js" },
  );
}

/**
 * Imports a module: `.js`/`.mjs` natively, `.ts`/`.mts`/`.cts` through jiti (a maintained
 * on-the-fly TypeScript loader; mk does no transpiling of its own).
 */
export async function importModule(file: string, fresh = false): Promise<Record<string, unknown>> {
  // Fresh (a swap, mk dev): jiti without its module cache evaluates the file and every local
  // file it imports again, which node's own ESM loader can never do in one realm.
  if (fresh || TYPESCRIPT.has(extname(file))) {
    const { createJiti } = await import("jiti");
    const jiti = createJiti(import.meta.url, { fsCache: false, moduleCache: !fresh, interopDefault: false });
    return jiti.import<Record<string, unknown>>(file);
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/**
 * Finds, imports and checks the config.
 * @throws {ConfigError} `CONFIG_NOT_FOUND`, `CONFIG_LOAD_FAILED` (the module throws, has a
 *   syntax error, or imports something missing) or `CONFIG_INVALID` (names the field).
 */
export async function loadConfig(path: string | undefined, cwd: string): Promise<LoadedConfig> {
  const file = await findConfig(path, cwd);
  let exports: Record<string, unknown>;
  try {
    exports = await importModule(file);
  } catch (cause) {
    throw new ConfigError("CONFIG_LOAD_FAILED", file, `${file}: loading the config failed: ${describeError(cause)}`, {
      cause,
    });
  }
  if (!("default" in exports)) {
    throw new ConfigError(
      "CONFIG_INVALID",
      file,
      `${file}: default export: expected export default defineConfig({ services: [...] }), got no default export`,
      { field: "default export" },
    );
  }
  const config = validateConfig(exports["default"], file);
  return { config, file, dir: dirname(file) };
}

/** `mk.config.js` for messages that should stay short. */
export function configLabel(file: string): string {
  return basename(file);
}
