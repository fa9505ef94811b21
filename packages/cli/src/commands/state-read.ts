import { writeFile } from "node:fs/promises";
import type { ParseArgsConfig } from "node:util";
import { printJson, println, type Command } from "../command.ts";
import { CliError, describeError } from "../errors.ts";
import { progress } from "../state/progress.ts";
import { sealedInfo } from "../state/state-file-info.ts";
import { openStateContext, pathFlag } from "../state/state-context.ts";
import { JSON_HELP } from "./common-options.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

export const STATE_OPTIONS: Options = {
  json: { type: "boolean" },
  config: { type: "string", short: "c" },
  store: { type: "string" },
};
export const STATE_HELP: [string, string][] = [
  ["-c, --config PATH", "take the store and key from this config (default: mk.config.* in this folder)"],
  [
    "--store URL",
    "this store instead (file:DIR, postgres://..., nats://...); the key is still the config's, or MK_STATE_KEY",
  ],
  JSON_HELP,
];

/** The `mk state export` document. */
export interface StateExport {
  mk: "state-export";
  format: 1;
  exportedAt: string;
  store: string;
  states: { name: string; version?: string; generation?: number; state: unknown }[];
}

export const stateLsCommand: Command = {
  name: "state ls",
  summary: "list the stored states: name, format, key id, size, last write",
  usage: "state ls [-c CONFIG] [--store URL] [--json]",
  options: STATE_OPTIONS,
  optionHelp: STATE_HELP,
  examples: ["mk state ls", "mk state ls --store file:./backup --json"],
  positionals: [0, 0],
  async run(_positionals, flags, context) {
    const state = await openStateContext(flags, context);
    try {
      const rows = [];
      for (const name of await state.store.list()) {
        rows.push({ name, ...(await sealedInfo(state.location, name, state.crypter)) });
      }
      if (flags["json"] === true) {
        printJson(context, { store: state.label, states: rows });
        return 0;
      }
      println(context, `${rows.length} state${rows.length === 1 ? "" : "s"} in ${state.label}`);
      for (const row of rows) {
        println(
          context,
          `${row.name}  ${row.format ?? "?"}  key ${row.keyId ?? "-"}  ${row.bytes ?? "?"} bytes  ${row.modified ?? ""}`.trimEnd(),
        );
      }
      return 0;
    } finally {
      await state.store.close?.();
    }
  },
};

export const stateShowCommand: Command = {
  name: "state show",
  summary: "decrypt one state and print it as JSON, with its version, generation, key id and format",
  usage: "state show NAME [-c CONFIG] [--store URL] [--json]",
  options: STATE_OPTIONS,
  optionHelp: STATE_HELP,
  examples: ["mk state show echo", "mk state show echo --json | jq .state"],
  positionals: [1, 1],
  async run([name = ""], flags, context) {
    const state = await openStateContext(flags, context);
    try {
      const info = await sealedInfo(state.location, name, state.crypter);
      const loaded = await state.store.load(name);
      if (loaded === undefined) throw new CliError("STATE_FAILED", `no state "${name}" in ${state.label}`);
      const document = {
        name,
        version: loaded.version ?? null,
        generation: loaded.generation ?? null,
        keyId: info?.keyId ?? null,
        format: loaded.legacy === true ? "legacy" : (info?.format ?? "unknown"),
        needsRewrap: loaded.needsRewrap === true,
        state: loaded.state,
      };
      if (flags["json"] === true) {
        printJson(context, document);
        return 0;
      }
      println(context, `name:       ${name}`);
      println(context, `version:    ${loaded.version ?? "(none recorded)"}`);
      println(context, `generation: ${loaded.generation ?? "-"}`);
      println(
        context,
        `key id:     ${info?.keyId ?? "-"}${loaded.needsRewrap === true ? " (an older key: mk state rotate reseals it)" : ""}`,
      );
      println(context, `format:     ${document.format}`);
      println(context, `state:`);
      println(context, JSON.stringify(loaded.state, null, 2));
      return 0;
    } finally {
      await state.store.close?.();
    }
  },
};

export const stateVerifyCommand: Command = {
  name: "state verify",
  summary: "open every state with the key; a line per bad file and a non-zero exit if any",
  usage: "state verify [-c CONFIG] [--store URL] [--json]",
  options: STATE_OPTIONS,
  optionHelp: STATE_HELP,
  examples: ["mk state verify", "mk state verify --json || alert-someone"],
  positionals: [0, 0],
  async run(_positionals, flags, context) {
    const state = await openStateContext(flags, context);
    try {
      const names = await state.store.list();
      const bar = progress(context, "verify", names.length);
      const results: { name: string; ok: boolean; error?: string; needsRewrap?: boolean }[] = [];
      for (const name of names) {
        try {
          const loaded = await state.store.load(name);
          results.push(loaded?.needsRewrap === true ? { name, ok: true, needsRewrap: true } : { name, ok: true });
        } catch (error) {
          const line = describeError(error);
          results.push({ name, ok: false, error: line });
          if (flags["json"] !== true) bar.note(`bad ${name}: ${line}`);
        }
        bar.tick(name);
      }
      bar.stop();
      const bad = results.filter((r) => !r.ok);
      if (flags["json"] === true) printJson(context, { store: state.label, states: results });
      else
        println(
          context,
          `verified ${results.length} state${results.length === 1 ? "" : "s"} in ${state.label}: ${bad.length} bad`,
        );
      if (bad.length > 0) {
        throw new CliError(
          "VERIFY_FAILED",
          `${bad.length} of ${results.length} states failed verification: ${bad.map((b) => b.name).join(", ")}`,
        );
      }
      return 0;
    } finally {
      await state.store.close?.();
    }
  },
};

export const stateExportCommand: Command = {
  name: "state export",
  summary: "decrypt states into one plain JSON document (a backup: keep it as safe as the key)",
  usage: "state export [NAME...] [--out FILE] [-c CONFIG] [--store URL]",
  details: ["Without --out the JSON goes to stdout. A file is created 0600 and never overwritten."],
  options: { ...STATE_OPTIONS, out: { type: "string", short: "o" } },
  optionHelp: [["-o, --out FILE", "write the JSON here (created 0600; an existing file is refused)"], ...STATE_HELP],
  examples: ["mk state export --out backup.json", "mk state export echo > echo.json"],
  positionals: [0, Number.MAX_SAFE_INTEGER],
  async run(names, flags, context) {
    const state = await openStateContext(flags, context);
    try {
      const all = await state.store.list();
      const missing = names.filter((n) => !all.includes(n));
      if (missing.length > 0)
        throw new CliError("STATE_FAILED", `no state ${missing.map((n) => `"${n}"`).join(", ")} in ${state.label}`);
      const chosen = names.length === 0 ? all : names;
      const doc: StateExport = {
        mk: "state-export",
        format: 1,
        exportedAt: new Date().toISOString(),
        store: state.label,
        states: [],
      };
      for (const name of chosen) {
        const loaded = await state.store.load(name);
        if (loaded === undefined) continue;
        const entry: StateExport["states"][number] = { name, state: loaded.state };
        if (loaded.version !== undefined) entry.version = loaded.version;
        if (loaded.generation !== undefined) entry.generation = loaded.generation;
        doc.states.push(entry);
      }
      const text = `${JSON.stringify(doc, null, 2)}\n`;
      const out = pathFlag(flags, "out", context);
      if (out === undefined) {
        context.stdout.write(text);
      } else {
        try {
          await writeFile(out, text, { mode: 0o600, flag: "wx" });
        } catch (cause) {
          throw new CliError("STATE_FAILED", `cannot write ${out}: ${describeError(cause)}`, {
            cause,
            hint: "pick a new file name: an export never overwrites",
          });
        }
        context.stderr.write(`exported ${doc.states.length} state${doc.states.length === 1 ? "" : "s"} to ${out}\n`);
      }
      return 0;
    } finally {
      await state.store.close?.();
    }
  },
};
