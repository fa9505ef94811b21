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
  | { kind: "postgres"; connectionString: string; table?: string; url: string }
  | { kind: "nats"; servers: string; bucket?: string; url: string };

/**
 * Reads a store URL: `file:./rel` (relative to `base`), `file:/abs`, `file:///abs`, a plain
 * path, `postgres://user:pw@host:port/db[?table=name]` (through `@mk/store-postgres`) or
 * `nats://host:port[?bucket=name]` (a JetStream key-value bucket, through `@mk/store-nats`).
 * @throws {CliError} `INVALID_ARGUMENT`
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
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new CliError("INVALID_ARGUMENT", `store "${redact(url)}": not a valid URL: ${describeError(cause)}`, {
        cause,
      });
    }
    const bucket = parsed.searchParams.get("bucket") ?? undefined;
    parsed.search = "";
    const location: StoreLocation = { kind: "nats", servers: parsed.href.replace(/\/$/, ""), url };
    if (bucket !== undefined) location.bucket = bucket;
    return location;
  }
  throw new CliError(
    "INVALID_ARGUMENT",
    `store "${redact(url)}": unknown scheme "${scheme}:"; expected file:<folder>, postgres://... or nats://...`,
  );
}

/** Opens the store a location names, sealing with `crypter`. The PostgreSQL driver loads only when used. */
export async function openStore(location: StoreLocation, crypter: Crypter): Promise<StateStore> {
  if (location.kind === "file") return new FileStateStore(location.dir, crypter);
  if (location.kind === "nats") {
    const { NatsKvStateStore } = await backend(() => import("@mk/store-nats"), "@mk/store-nats", location.url);
    const options: ConstructorParameters<typeof NatsKvStateStore>[0] = { servers: location.servers, crypter };
    if (location.bucket !== undefined) options.bucket = location.bucket;
    try {
      return new NatsKvStateStore(options);
    } catch (cause) {
      throw new CliError("INVALID_ARGUMENT", `store "${redact(location.url)}": ${describeError(cause)}`, { cause });
    }
  }
  const { PostgresStateStore } = await backend(() => import("@mk/store-postgres"), "@mk/store-postgres", location.url);
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

/**
 * Loads an optional backend package (a peer dependency: only users of that store install it
 * and its driver).
 * @throws {CliError} `UNSUPPORTED` naming the package to install when it is missing.
 */
async function backend<T>(load: () => Promise<T>, name: string, url: string): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" && describeError(cause).includes(name)) {
      throw new CliError("UNSUPPORTED", `store "${redact(url)}" needs ${name}, which is not installed`, {
        cause,
        hint: `npm i ${name}`,
      });
    }
    throw cause;
  }
}

/** Whether two locations name the same store. */
export function sameStore(a: StoreLocation, b: StoreLocation): boolean {
  if (a.kind === "file" && b.kind === "file") return a.dir === b.dir;
  if (a.kind === "postgres" && b.kind === "postgres") {
    return a.connectionString === b.connectionString && (a.table ?? "") === (b.table ?? "");
  }
  if (a.kind === "nats" && b.kind === "nats") return a.servers === b.servers && (a.bucket ?? "") === (b.bucket ?? "");
  return false;
}

/** A store URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}
