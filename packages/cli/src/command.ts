import type { ParseArgsConfig } from "node:util";

/** What a command gets besides its arguments. */
export interface CommandContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** Parsed flags: strings, booleans, or lists of strings. */
export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** One `mk` command. */
export interface Command {
  /** `run`, `ps`, `state verify`, … */
  name: string;
  summary: string;
  /** The synopsis line after `mk `. */
  usage: string;
  /** Extra lines of help: what the command does, in a few sentences. */
  details?: string[];
  options: NonNullable<ParseArgsConfig["options"]>;
  /** One line per option for the help, in order. */
  optionHelp: [flag: string, text: string][];
  examples: string[];
  /** Fewest and most positionals. */
  positionals: [min: number, max: number];
  run(positionals: string[], flags: Flags, context: CommandContext): Promise<number>;
}

/** Writes a line to stdout. */
export function println(context: CommandContext, line = ""): void {
  context.stdout.write(`${line}\n`);
}

/** Writes `value` as one JSON document on stdout (for `--json`). */
export function printJson(context: CommandContext, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
