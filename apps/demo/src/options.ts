import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DemoError } from "./errors.ts";
import { DEMO_KEY, parseKey, REFERENCE_KEY } from "./key.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Everything the demo needs to know, after parsing and checking. */
export interface DemoOptions {
  help: boolean;
  /** Absolute directory of the state files. */
  stateDir: string;
  /** Delete `echo.state` and `logger.state` in `stateDir` before starting. */
  reset: boolean;
  key: Uint8Array;
  /** Where the key came from, for the log: `MK_STATE_KEY`, `--key` or `demo`. */
  keySource: "MK_STATE_KEY" | "--key" | "demo";
  /** Absolute directory of reference-format (Go) state files to import, if any. */
  importLegacy: string | undefined;
  legacyKey: Uint8Array;
  legacyKeySource: "--legacy-key" | "reference";
  /** Period of the kernel's checkpoints; 0 turns them off. */
  checkpointMs: number;
  level: LogLevel;
}

export const USAGE: string = `Usage: mk-demo [options]

Runs the mk reference scenario: services "logger" and "echo" talk through the
kernel, echo is hot-swapped from v1 to v2 keeping its counter, and every state
is saved encrypted, so the next run continues where this one stopped.

Options:
  --state-dir DIR      where the encrypted state files live
                       (default: ./state in the directory you ran the command from)
  --reset              delete echo.state and logger.state in the state dir first
  --key KEY            state key (prefer the MK_STATE_KEY environment variable:
                       a command line is visible to other users in ps)
  --import-legacy DIR  read echo.state/logger.state written by the reference Go
                       program in DIR and continue from them (DIR is not changed)
  --legacy-key KEY     key of those files (default: the reference's 1234567890123456)
  --checkpoint-ms N    period of the kernel's state checkpoints in ms, 0 = off
                       (default: 200)
  --level LEVEL        debug, info, warn or error (default: info)
  -h, --help           show this help

Keys: 16, 24 or 32 characters (their UTF-8 bytes, as in the reference),
hex:<32/48/64 hex digits> or base64:<16/24/32 bytes>. Without MK_STATE_KEY or
--key the demo uses a fixed, public demo key and says so.

Exit codes: 0 ok, 1 the scenario failed (e.g. a state file that cannot be
decrypted), 2 bad command line.`;

/**
 * Parses the command line and the environment.
 * Relative paths are taken from `baseDir` (the directory the user ran the command in).
 * @throws {DemoError} (exit code 2) on an unknown flag, a bad value or a bad key.
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, baseDir: string): DemoOptions {
  let values;
  try {
    ({ values } = parseArgs({
      // `pnpm demo -- --reset` hands the "--" on to the script: it separates nothing here.
      args: argv[0] === "--" ? argv.slice(1) : [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        "state-dir": { type: "string" },
        reset: { type: "boolean", default: false },
        key: { type: "string" },
        "import-legacy": { type: "string" },
        "legacy-key": { type: "string" },
        "checkpoint-ms": { type: "string" },
        level: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new DemoError(error instanceof Error ? error.message : String(error), {
      hint: "see mk-demo --help",
      exitCode: 2,
    });
  }

  const level = values.level ?? "info";
  if (!isLevel(level)) throw usageError(`--level: expected one of ${LEVELS.join(", ")}, got "${level}"`);

  const checkpointText = values["checkpoint-ms"] ?? "200";
  const checkpointMs = Number(checkpointText);
  if (!/^\d+$/.test(checkpointText) || !Number.isSafeInteger(checkpointMs)) {
    throw usageError(`--checkpoint-ms: expected a whole number of milliseconds (0 = off), got "${checkpointText}"`);
  }

  const flagKey = values.key;
  const envKey = env["MK_STATE_KEY"];
  let key: Uint8Array;
  let keySource: DemoOptions["keySource"];
  if (flagKey !== undefined) {
    key = parseKey(flagKey, "--key");
    keySource = "--key";
  } else if (envKey !== undefined && envKey !== "") {
    key = parseKey(envKey, "MK_STATE_KEY");
    keySource = "MK_STATE_KEY";
  } else {
    key = parseKey(DEMO_KEY, "the demo key");
    keySource = "demo";
  }

  const legacyKeyText = values["legacy-key"];
  const legacyKey = parseKey(legacyKeyText ?? REFERENCE_KEY, "--legacy-key");

  const stateDir = values["state-dir"];
  if (stateDir === "") throw usageError("--state-dir: expected a directory, got an empty string");
  const legacyDir = values["import-legacy"];
  if (legacyDir === "") throw usageError("--import-legacy: expected a directory, got an empty string");

  return {
    help: values.help,
    stateDir: resolve(baseDir, stateDir ?? "state"),
    reset: values.reset,
    key,
    keySource,
    importLegacy: legacyDir === undefined ? undefined : resolve(baseDir, legacyDir),
    legacyKey,
    legacyKeySource: legacyKeyText === undefined ? "reference" : "--legacy-key",
    checkpointMs,
    level,
  };
}

/**
 * The directory the user ran the command in: pnpm and npm run scripts from the
 * package's folder but keep the caller's directory in `INIT_CWD`.
 */
export function userDirectory(env: NodeJS.ProcessEnv, cwd: string): string {
  const init = env["INIT_CWD"];
  return init !== undefined && init !== "" ? init : cwd;
}

function isLevel(text: string): text is LogLevel {
  return (LEVELS as readonly string[]).includes(text);
}

function usageError(message: string): DemoError {
  return new DemoError(message, { hint: "see mk-demo --help", exitCode: 2 });
}
