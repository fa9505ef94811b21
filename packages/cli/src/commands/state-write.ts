import { constants } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AesGcmCrypter, LegacyAesGcmCrypter, type KeyEntry } from "@mk/crypto";
import { STATE_NAME_PATTERN, type StateStore } from "@mk/state";
import { printJson, println, type Command, type CommandContext, type Flags } from "../command.ts";
import type { KeySource } from "../config/types.ts";
import { CliError, describeError, UsageError } from "../errors.ts";
import { describeKeySource, resolveKey } from "../keys/resolve-keys.ts";
import { openStore, parseStoreUrl, redact, sameStore } from "../runtime/store-url.ts";
import { confirm } from "../state/confirm.ts";
import { progress } from "../state/progress.ts";
import { openStateContext, refuseWhileRunning, type StateContext } from "../state/state-context.ts";
import { STATE_HELP, STATE_OPTIONS, type StateExport } from "./state-read.ts";

/** The key the reference Go program hard-coded; its files are sealed with it unless it was changed. */
export const REFERENCE_KEY = "1234567890123456";
const LEGACY_MAX_BYTES = 1024 * 1024;
const EXPORT_MAX_BYTES = 512 * 1024 * 1024;

function keyFlag(flags: Flags, prefix: string, context: CommandContext): KeySource | undefined {
  const env = flags[`${prefix}-env`];
  const file = flags[`${prefix}-file`];
  if (typeof env === "string" && typeof file === "string") {
    throw new UsageError(`give --${prefix}-env or --${prefix}-file, not both`);
  }
  if (typeof env === "string") return { env };
  if (typeof file === "string") return { file: resolve(context.cwd, file) };
  return undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export const stateRotateCommand: Command = {
  name: "state rotate",
  summary: "reseal every state under a new primary key, keeping the old ones for reading (crash-safe, restartable)",
  usage: "state rotate (--new-key-env VAR | --new-key-file PATH) [--new-key-id N] [-c CONFIG] [--store URL] [--json]",
  details: [
    "Each state is rewritten atomically (temp file, fsync, rename): a kill at any point leaves every state",
    "loadable with the new key plus the old ones. Run it again to finish; states already under the new key are skipped.",
    "Then make the new key the config's `key` (with its id) and keep the old ones in `previousKeys`.",
  ],
  options: {
    ...STATE_OPTIONS,
    "new-key-env": { type: "string" },
    "new-key-file": { type: "string" },
    "new-key-id": { type: "string" },
  },
  optionHelp: [
    ["--new-key-env VAR", "the new key is in this environment variable"],
    ["--new-key-file PATH", "the new key is in this file (mode 0600 or 0400, yours)"],
    ["--new-key-id N", "its key id (default: one more than the highest id the config knows)"],
    ...STATE_HELP,
  ],
  examples: [
    "MK_NEW_KEY=hex:$(openssl rand -hex 32) mk state rotate --new-key-env MK_NEW_KEY",
    "mk state rotate --new-key-file ./state-2.key --new-key-id 2 --json",
  ],
  positionals: [0, 0],
  async run(_positionals, flags, context) {
    const source = keyFlag(flags, "new-key", context);
    if (source === undefined)
      throw new UsageError("mk state rotate: give the new key with --new-key-env VAR or --new-key-file PATH");
    const state = await openStateContext(flags, context);
    let target: StateStore | undefined;
    try {
      await refuseWhileRunning(state, context, "mk state rotate");
      const known = state.crypter.keyIds;
      let id = Math.max(...known) + 1;
      if (typeof flags["new-key-id"] === "string") {
        id = Number(flags["new-key-id"]);
        if (!Number.isSafeInteger(id) || id < 0 || id > 0xffff_ffff) {
          throw new UsageError(
            `--new-key-id: expected an integer in 0..4294967295, got ${JSON.stringify(flags["new-key-id"])}`,
          );
        }
      }
      const resolveContext = { dir: state.dir, env: context.env, mayCreateParams: () => Promise.resolve(false) };
      const fresh = await resolveKey(source, resolveContext);
      const older: KeyEntry[] = [];
      for (const old of [state.keySource, ...state.previousKeys]) {
        const entry = await resolveKey(old, resolveContext);
        if (entry.id !== id) older.push(entry);
      }
      let crypter: AesGcmCrypter;
      try {
        crypter = new AesGcmCrypter(fresh.key, { keyId: id, previousKeys: older });
      } catch (cause) {
        throw new CliError("KEY_INVALID", `mk state rotate: ${describeError(cause)}`, { cause });
      } finally {
        fresh.key.fill(0);
        for (const entry of older) if (entry.key instanceof Uint8Array) entry.key.fill(0);
      }
      await state.store.close?.();
      target = await openStore(state.location, crypter);
      const names = await target.list();
      const bar = progress(context, "rotate", names.length);
      let resealed = 0;
      for (const name of names) {
        const loaded = await target.load(name);
        if (loaded !== undefined && (loaded.needsRewrap === true || loaded.legacy === true)) {
          const meta: { version?: string; ifGeneration?: number } = {};
          if (loaded.version !== undefined) meta.version = loaded.version;
          // Compare-and-set: a writer that slipped in since the load wins, and this run says so.
          if (loaded.legacy !== true && loaded.generation !== undefined) meta.ifGeneration = loaded.generation;
          await target.save(name, loaded.state, meta);
          resealed++;
        }
        bar.tick(name);
      }
      bar.stop();
      const summary = {
        store: state.label,
        keyId: id,
        resealed,
        alreadyUnderNewKey: names.length - resealed,
        config: {
          key: { ...source, id },
          previousKeys: [state.keySource, ...state.previousKeys]
            .map((k) => ({ ...k, id: k.id ?? 0 }))
            .filter((k) => k.id !== id),
        },
      };
      if (flags["json"] === true) {
        printJson(context, summary);
      } else {
        println(
          context,
          `rotated ${plural(resealed, "state")} in ${state.label} to key id ${id} (${summary.alreadyUnderNewKey} already were)`,
        );
        println(context, `now use the new key in the config, keeping the old for reading:`);
        println(context, `  key: ${JSON.stringify(summary.config.key)},`);
        println(context, `  previousKeys: ${JSON.stringify(summary.config.previousKeys)},`);
        println(context, `(the new key came from ${describeKeySource(source)})`);
      }
      return 0;
    } finally {
      await (target ?? state.store).close?.();
    }
  },
};

async function writeAll(
  store: StateStore,
  states: readonly { name: string; version?: string; state: unknown }[],
  context: CommandContext,
  verb: string,
): Promise<void> {
  const bar = progress(context, verb, states.length);
  for (const entry of states) {
    await store.save(entry.name, entry.state, entry.version === undefined ? {} : { version: entry.version });
    bar.tick(entry.name);
  }
  bar.stop();
}

async function replaced(store: StateStore, names: readonly string[]): Promise<string[]> {
  const existing = new Set(await store.list());
  return names.filter((n) => existing.has(n));
}

function describeWrite(count: number, replacing: readonly string[], into: string): string {
  return `write ${plural(count, "state")} into ${into}${replacing.length === 0 ? "" : ` (replacing ${replacing.join(", ")})`}`;
}

/** Checks an export document; names the first thing wrong. */
function parseExport(text: string, file: string): StateExport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new CliError("IMPORT_INVALID", `${file} is not JSON: ${describeError(cause)}`, { cause });
  }
  const d = doc as Partial<StateExport>;
  if (
    typeof doc !== "object" ||
    doc === null ||
    d.mk !== "state-export" ||
    d.format !== 1 ||
    !Array.isArray(d.states)
  ) {
    throw new CliError(
      "IMPORT_INVALID",
      `${file}: expected an mk state export ({"mk":"state-export","format":1,"states":[...]})`,
    );
  }
  const seen = new Set<string>();
  d.states.forEach((entry: unknown, i) => {
    const e = entry as { name?: unknown; version?: unknown; state?: unknown };
    if (typeof entry !== "object" || entry === null || !("state" in entry)) {
      throw new CliError("IMPORT_INVALID", `${file}: states[${i}]: expected { name, version?, state }`);
    }
    if (typeof e.name !== "string" || !STATE_NAME_PATTERN.test(e.name)) {
      throw new CliError(
        "IMPORT_INVALID",
        `${file}: states[${i}].name: expected a service name, got ${JSON.stringify(e.name)}`,
      );
    }
    if (seen.has(e.name)) throw new CliError("IMPORT_INVALID", `${file}: states[${i}].name: "${e.name}" appears twice`);
    seen.add(e.name);
    if (e.version !== undefined && typeof e.version !== "string") {
      throw new CliError(
        "IMPORT_INVALID",
        `${file}: states[${i}].version: expected a string, got ${JSON.stringify(e.version)}`,
      );
    }
  });
  return d as StateExport;
}

export const stateImportCommand: Command = {
  name: "state import",
  summary: "write the states of an `mk state export` document into the store (asks first; --yes for scripts)",
  usage: "state import FILE [NAME...] [--yes] [-c CONFIG] [--store URL] [--json]",
  options: { ...STATE_OPTIONS, yes: { type: "boolean", short: "y" } },
  optionHelp: [["-y, --yes", "write without asking (required without a terminal)"], ...STATE_HELP],
  examples: ["mk state import backup.json", "mk state import backup.json echo --yes"],
  positionals: [1, Number.MAX_SAFE_INTEGER],
  async run([file = "", ...names], flags, context) {
    const path = resolve(context.cwd, file);
    const text = await readBounded(path, EXPORT_MAX_BYTES, "export");
    const doc = parseExport(text, path);
    const chosen = names.length === 0 ? doc.states : doc.states.filter((s) => names.includes(s.name));
    const missing = names.filter((n) => !doc.states.some((s) => s.name === n));
    if (missing.length > 0)
      throw new CliError("IMPORT_INVALID", `${path} has no state ${missing.map((n) => `"${n}"`).join(", ")}`);
    const state = await openStateContext(flags, context);
    try {
      await refuseWhileRunning(state, context, "mk state import");
      const replacing = await replaced(
        state.store,
        chosen.map((s) => s.name),
      );
      await confirm(describeWrite(chosen.length, replacing, state.label), flags, context);
      await writeAll(state.store, chosen, context, "import");
      if (flags["json"] === true) printJson(context, { imported: chosen.map((s) => s.name), replaced: replacing });
      else println(context, `imported ${plural(chosen.length, "state")} into ${state.label}`);
      return 0;
    } finally {
      await state.store.close?.();
    }
  },
};

export const stateImportLegacyCommand: Command = {
  name: "state import-legacy",
  summary: "import the state files of the reference Go program (nonce || ciphertext || tag) from DIR",
  usage: "state import-legacy DIR [--legacy-key-env VAR | --legacy-key-file PATH] [--yes] [-c CONFIG] [--store URL]",
  details: [
    "Every DIR/<name>.state is opened first; if any fails, nothing is written. DIR is only read.",
    `Without a legacy key option the reference's hard-coded key (${REFERENCE_KEY}) is used, and said so.`,
  ],
  options: {
    ...STATE_OPTIONS,
    yes: { type: "boolean", short: "y" },
    "legacy-key-env": { type: "string" },
    "legacy-key-file": { type: "string" },
  },
  optionHelp: [
    ["--legacy-key-env VAR", "the key the Go program used, from this environment variable"],
    ["--legacy-key-file PATH", "... or from this file (mode 0600 or 0400, yours)"],
    ["-y, --yes", "write without asking (required without a terminal)"],
    ...STATE_HELP,
  ],
  examples: ["mk state import-legacy ../go-app/state", "mk state import-legacy ./old --legacy-key-env GO_KEY --yes"],
  positionals: [1, 1],
  async run([dir = ""], flags, context) {
    const from = resolve(context.cwd, dir);
    const source = keyFlag(flags, "legacy-key", context);
    let key: Uint8Array;
    if (source === undefined) {
      context.stderr.write(
        `mk: no --legacy-key-env/--legacy-key-file: using the reference program's hard-coded key ${REFERENCE_KEY}\n`,
      );
      key = new TextEncoder().encode(REFERENCE_KEY);
    } else {
      key = (
        await resolveKey(source, { dir: context.cwd, env: context.env, mayCreateParams: () => Promise.resolve(false) })
      ).key;
    }
    const legacy = new LegacyAesGcmCrypter(key);
    key.fill(0);
    let entries: string[];
    try {
      entries = (await readdir(from)).filter((e) => e.endsWith(".state")).sort();
    } catch (cause) {
      throw new CliError("IMPORT_INVALID", `cannot read ${from}: ${describeError(cause)}`, { cause });
    }
    const states: { name: string; state: unknown }[] = [];
    const bad: string[] = [];
    for (const entry of entries) {
      const name = entry.slice(0, -".state".length);
      if (!STATE_NAME_PATTERN.test(name)) continue;
      try {
        const bytes = new Uint8Array(await readBoundedBytes(join(from, entry), LEGACY_MAX_BYTES));
        const plain = await legacy.decrypt(bytes);
        states.push({ name, state: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain)) as unknown });
      } catch (error) {
        bad.push(`${entry}: ${describeError(error)}`);
      }
    }
    if (bad.length > 0) {
      for (const line of bad.slice(0, -1)) context.stderr.write(`bad ${line}\n`);
      throw new CliError(
        "IMPORT_INVALID",
        `${plural(bad.length, "legacy file")} in ${from} did not open (nothing was written): ${bad.at(-1) ?? ""}`,
        {
          hint: "wrong legacy key? give the Go program's key with --legacy-key-env VAR",
        },
      );
    }
    if (states.length === 0) throw new CliError("IMPORT_INVALID", `no <name>.state files in ${from}`);
    const state = await openStateContext(flags, context);
    try {
      await refuseWhileRunning(state, context, "mk state import-legacy");
      const replacing = await replaced(
        state.store,
        states.map((s) => s.name),
      );
      await confirm(describeWrite(states.length, replacing, state.label), flags, context);
      await writeAll(state.store, states, context, "import-legacy");
      if (flags["json"] === true)
        printJson(context, { imported: states.map((s) => s.name), replaced: replacing, from });
      else
        println(
          context,
          `imported ${plural(states.length, "legacy state")} from ${from} into ${state.label}: ${states.map((s) => s.name).join(", ")}`,
        );
      return 0;
    } finally {
      await state.store.close?.();
    }
  },
};

export const stateCopyCommand: Command = {
  name: "state copy",
  summary: "copy every state from one store to another, resealed with the config's key (asks first)",
  usage: "state copy --from URL --to URL [NAME...] [--yes] [-c CONFIG] [--json]",
  details: ["URLs are file:DIR, postgres://... or nats://...; the states are resealed with the config's key."],
  options: { ...STATE_OPTIONS, from: { type: "string" }, to: { type: "string" }, yes: { type: "boolean", short: "y" } },
  optionHelp: [
    ["--from URL", "the store to read"],
    ["--to URL", "the store to write"],
    ["-y, --yes", "write without asking (required without a terminal)"],
    ...STATE_HELP,
  ],
  examples: [
    "mk state copy --from file:./state --to file:/backup/state",
    "mk state copy --from file:./a --to file:./b echo --yes",
  ],
  positionals: [0, Number.MAX_SAFE_INTEGER],
  async run(names, flags, context) {
    const fromUrl = flags["from"];
    const toUrl = flags["to"];
    if (typeof fromUrl !== "string" || typeof toUrl !== "string")
      throw new UsageError("mk state copy: give both --from URL and --to URL");
    const from = parseStoreUrl(fromUrl, context.cwd);
    const to = parseStoreUrl(toUrl, context.cwd);
    if (sameStore(from, to))
      throw new UsageError(`mk state copy: --from and --to are the same store (${redact(fromUrl)})`);
    const state: StateContext = await openStateContext({ ...flags, store: fromUrl }, context);
    let target: StateStore | undefined;
    try {
      target = await openStore(to, state.crypter);
      const all = await state.store.list();
      const missing = names.filter((n) => !all.includes(n));
      if (missing.length > 0)
        throw new CliError("STATE_FAILED", `no state ${missing.map((n) => `"${n}"`).join(", ")} in ${redact(fromUrl)}`);
      const chosen = names.length === 0 ? all : names;
      const states: { name: string; version?: string; state: unknown }[] = [];
      for (const name of chosen) {
        const loaded = await state.store.load(name);
        if (loaded !== undefined)
          states.push({
            name,
            state: loaded.state,
            ...(loaded.version === undefined ? {} : { version: loaded.version }),
          });
      }
      const replacing = await replaced(
        target,
        states.map((s) => s.name),
      );
      await confirm(describeWrite(states.length, replacing, redact(toUrl)), flags, context);
      await writeAll(target, states, context, "copy");
      if (flags["json"] === true) printJson(context, { copied: states.map((s) => s.name), replaced: replacing });
      else println(context, `copied ${plural(states.length, "state")} from ${redact(fromUrl)} to ${redact(toUrl)}`);
      return 0;
    } finally {
      await state.store.close?.();
      await target?.close?.();
    }
  },
};

async function readBoundedBytes(path: string, max: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error("not a regular file");
    if (stats.size > max) throw new Error(`${stats.size} bytes, over the ${max}-byte limit`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function readBounded(path: string, max: number, what: string): Promise<string> {
  try {
    return (await readBoundedBytes(path, max)).toString("utf8");
  } catch (cause) {
    throw new CliError("IMPORT_INVALID", `cannot read ${what} ${path}: ${describeError(cause)}`, { cause });
  }
}
