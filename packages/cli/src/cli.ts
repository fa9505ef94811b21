import { parseArgs } from "node:util";
import type { Command, CommandContext, Flags } from "./command.ts";
import {
  checkpointCommand,
  logLevelCommand,
  psCommand,
  startCommand,
  stopCommand,
  swapCommand,
} from "./commands/control-commands.ts";
import { devCommand } from "./commands/dev.ts";
import { runCommand } from "./commands/run.ts";
import { stateExportCommand, stateLsCommand, stateShowCommand, stateVerifyCommand } from "./commands/state-read.ts";
import {
  stateCopyCommand,
  stateImportCommand,
  stateImportLegacyCommand,
  stateRotateCommand,
} from "./commands/state-write.ts";
import { CliError, describeError, UsageError } from "./errors.ts";
import { RemoteError } from "./control/control-client.ts";

/** Every command, in the order `mk --help` lists them. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  devCommand,
  psCommand,
  swapCommand,
  stopCommand,
  startCommand,
  checkpointCommand,
  logLevelCommand,
  stateLsCommand,
  stateShowCommand,
  stateVerifyCommand,
  stateRotateCommand,
  stateExportCommand,
  stateImportCommand,
  stateImportLegacyCommand,
  stateCopyCommand,
];

const INTRO = [
  "mk: run mk services from a config, operate a running kernel, and tend its encrypted state.",
  "",
  "Usage: mk COMMAND [ARGS] [--json] [--help]",
];

/** `mk --help`. */
export function mainHelp(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    ...INTRO,
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Examples:",
    "  npx mk run                          # boot ./mk.config.js; Ctrl-C stops it and saves state",
    "  npx mk dev                          # the same, and a saved file hot-swaps its services",
    "  mk ps                               # in another terminal, beside the same config",
    "  mk swap echo ./services/echo-v2.js  # new code, same state, no call lost",
    "  mk state show echo                  # decrypt one state and print it",
    "  mk state verify                     # every state opens with the key, or exit 1",
    "",
    "Run `mk COMMAND --help` for a command's options and examples.",
  ].join("\n");
}

/** `mk COMMAND --help`. */
export function commandHelp(command: Command): string {
  const width = Math.max(0, ...command.optionHelp.map(([flag]) => flag.length));
  return [
    `mk ${command.name}: ${command.summary}`,
    "",
    `Usage: mk ${command.usage}`,
    ...(command.details === undefined ? [] : ["", ...command.details]),
    "",
    "Options:",
    ...command.optionHelp.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
    `  ${"-h, --help".padEnd(width)}  show this help`,
    "",
    "Examples:",
    ...command.examples.map((e) => `  ${e}`),
  ].join("\n");
}

function findCommand(
  argv: readonly string[],
  commands: readonly Command[],
): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = commands.find((c) => c.name === name);
    if (command !== undefined) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

/**
 * Runs `mk` with `argv` (without node and the script). Every failure is one line on stderr
 * (JSON with `--json`) and a non-zero exit code; a stack is printed only for a failed hot swap
 * under `mk dev` and for errors mk did not expect (a bug).
 */
export async function main(
  argv: readonly string[],
  context: CommandContext,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const json = argv.includes("--json");
  try {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || (argv[0] === "help" && argv.length === 1)) {
      context.stdout.write(`${mainHelp(commands)}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === "--version" || argv[0] === "-v") {
      context.stdout.write(`${await version()}\n`);
      return 0;
    }
    const helpFor = argv[0] === "help" ? findCommand(argv.slice(1), commands) : undefined;
    if (helpFor !== undefined) {
      context.stdout.write(`${commandHelp(helpFor.command)}\n`);
      return 0;
    }
    const found = findCommand(argv, commands);
    if (found === undefined) {
      const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `));
      if (group.length > 0 && (argv.length === 1 || argv[1] === "--help" || argv[1] === "-h")) {
        context.stdout.write(`${mainHelp(group)}\n`);
        return argv.length === 1 ? 2 : 0;
      }
      const unknown = group.length > 0 ? `${argv[0]} ${argv[1] ?? ""}` : (argv[0] ?? "");
      throw new UsageError(
        `unknown command "${unknown.trim()}"`,
        `expected one of: ${(group.length > 0 ? group : commands).map((c) => c.name).join(", ")} (mk --help lists them)`,
      );
    }
    const { command, rest } = found;
    if (rest.includes("--help") || rest.includes("-h")) {
      context.stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    let values: Flags;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: rest,
        options: command.options,
        allowPositionals: true,
        strict: true,
      }));
    } catch (cause) {
      throw new UsageError(
        `mk ${command.name}: ${describeError(cause).replace(/\. To specify.*$/s, "")}`,
        `mk ${command.name} --help lists its options`,
      );
    }
    const [min, max] = command.positionals;
    if (positionals.length < min || positionals.length > max) {
      throw new UsageError(
        `mk ${command.name}: expected ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}, got ${positionals.length}${positionals.length > 0 ? ` (${positionals.join(" ")})` : ""}`,
        `usage: mk ${command.usage}`,
      );
    }
    return await command.run(positionals, values, context);
  } catch (error) {
    return report(error, context, json);
  }
}

function report(error: unknown, context: CommandContext, json: boolean): number {
  const known = error instanceof CliError;
  const code = known ? error.code : "UNEXPECTED";
  const hint = known ? error.hint : undefined;
  const message = describeError(error);
  if (json) {
    context.stderr.write(`${JSON.stringify({ error: { code, message, ...(hint === undefined ? {} : { hint }) } })}\n`);
  } else {
    context.stderr.write(`mk: ${message}${hint === undefined ? "" : ` (${hint})`}\n`);
    if (error instanceof RemoteError && error.remoteStack !== undefined && context.env["MK_DEBUG"] !== undefined) {
      context.stderr.write(`${error.remoteStack}\n`);
    }
    if (!known && error instanceof Error && error.stack !== undefined && context.env["MK_DEBUG"] !== undefined) {
      context.stderr.write(`${error.stack}\n`);
    }
  }
  return known ? error.exitCode : 1;
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
