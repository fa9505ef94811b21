import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Crypter } from "@mk/crypto";
import { FileStateStore, type StateStore } from "@mk/state";
import { CliError, describeError } from "../errors.ts";

/** The default store of a config without `store`. */
export const DEFAULT_STORE = "file:./state";

/** A parsed store URL. */
export type StoreLocation =
  | { kind: "file"; dir: string; url: string }
  | { kind: "postgres"; connectionString: string; table?: string; url: string };

/**
 * Reads a store URL: `file:./rel` (relative to `base`), `file:/abs`, `file:///abs`, a plain
 * path, or `postgres://user:pw@host:port/db[?table=name]` (through `@mk/store-postgres`).
 * `nats://` is refused until `@mk/store-nats` is released.
 * @throws {CliError} `UNSUPPORTED` for nats://, `INVALID_ARGUMENT` otherwise.
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
  if (scheme === "postgres" || scheme === "postgresql") {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new CliError("INVALID_ARGUMENT", `store "${redact(url)}": not a valid URL: ${describeError(cause)}`, {
        cause,
      });
    }
    const table = parsed.searchParams.get("table") ?? undefined;
    parsed.searchParams.delete("table");
    const location: StoreLocation = { kind: "postgres", connectionString: parsed.href, url };
    if (table !== undefined) location.table = table;
    return location;
  }
  if (scheme === "nats") {
    throw new CliError(
      "UNSUPPORTED",
      `store "${redact(url)}": nats:// stores need @mk/store-nats, which this build of mk does not have yet`,
      { hint: 'use a file store ("file:./state") or postgres:// for now' },
    );
  }
  throw new CliError(
    "INVALID_ARGUMENT",
    `store "${redact(url)}": unknown scheme "${scheme}:"; expected file:<folder> or postgres://... (nats:// once available)`,
  );
}

/** Opens the store a location names, sealing with `crypter`. The PostgreSQL driver loads only when used. */
export async function openStore(location: StoreLocation, crypter: Crypter): Promise<StateStore> {
  if (location.kind === "file") return new FileStateStore(location.dir, crypter);
  const { PostgresStateStore } = await import("@mk/store-postgres");
  const options: ConstructorParameters<typeof PostgresStateStore>[0] = {
    connectionString: location.connectionString,
    crypter,
  };
  if (location.table !== undefined) options.table = location.table;
  try {
    return new PostgresStateStore(options);
  } catch (cause) {
    throw new CliError("INVALID_ARGUMENT", `store "${redact(location.url)}": ${describeError(cause)}`, { cause });
  }
}

/** Whether two locations name the same store. */
export function sameStore(a: StoreLocation, b: StoreLocation): boolean {
  if (a.kind === "file" && b.kind === "file") return a.dir === b.dir;
  if (a.kind === "postgres" && b.kind === "postgres") {
    return a.connectionString === b.connectionString && (a.table ?? "") === (b.table ?? "");
  }
  return false;
}

/** A store URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}
