import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Crypter } from "@mk/crypto";
import { FileStateStore, type StateStore } from "@mk/state";
import { CliError } from "../errors.ts";

/** The default store of a config without `store`. */
export const DEFAULT_STORE = "file:./state";

/** A parsed store URL. */
export type StoreLocation = { kind: "file"; dir: string; url: string };

/**
 * Reads a store URL: `file:./rel` (relative to `base`), `file:/abs`, `file:///abs`, or a plain
 * path. `postgres://` and `nats://` are recognised and refused until their backends exist.
 * @throws {CliError} `UNSUPPORTED` for a known scheme without a backend here, `INVALID_ARGUMENT` otherwise.
 */
export function parseStoreUrl(url: string, base: string): StoreLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme.length === 1) {
    // No scheme (a Windows drive letter counts as none): a path.
    return { kind: "file", dir: resolve(base, url), url };
  }
  if (scheme === "file") {
    if (url.startsWith("file://")) return { kind: "file", dir: fileURLToPath(url), url };
    const path = url.slice("file:".length);
    if (path === "") throw new CliError("INVALID_ARGUMENT", `store "${url}": expected file:<folder>, got no folder`);
    return { kind: "file", dir: isAbsolute(path) ? path : resolve(base, path), url };
  }
  if (scheme === "postgres" || scheme === "postgresql" || scheme === "nats") {
    const pkg = scheme === "nats" ? "@mk/store-nats" : "@mk/store-postgres";
    throw new CliError(
      "UNSUPPORTED",
      `store "${redact(url)}": ${scheme}:// stores need ${pkg}, which this build of mk does not have yet`,
      { hint: 'use a file store ("file:./state") for now' },
    );
  }
  throw new CliError(
    "INVALID_ARGUMENT",
    `store "${redact(url)}": unknown scheme "${scheme}:"; expected file:<folder> (postgres:// and nats:// once available)`,
  );
}

/** Opens the store a location names, sealing with `crypter`. */
export function openStore(location: StoreLocation, crypter: Crypter, legacy?: Crypter): StateStore & { dir: string } {
  return new FileStateStore(location.dir, crypter, legacy === undefined ? {} : { legacy });
}

/** A store URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}
