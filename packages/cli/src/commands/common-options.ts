import type { ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `--json` on every command. */
export const JSON_OPTION: Options = { json: { type: "boolean" } };
export const JSON_HELP: [string, string] = ["--json", "print JSON for scripts instead of text"];

/** How control commands find the kernel. */
export const CONTROL_OPTIONS: Options = {
  ...JSON_OPTION,
  config: { type: "string", short: "c" },
  socket: { type: "string" },
  timeout: { type: "string" },
};
export const CONTROL_HELP: [string, string][] = [
  ["-c, --config PATH", "the config of the running kernel (default: mk.config.* in this folder)"],
  ["--socket PATH", "the control socket itself, instead of finding it from the config"],
  ["--timeout MS", "how long to wait for the kernel's answer (default 120000)"],
  JSON_HELP,
];

/** The flags of the commands that boot a kernel (`mk run`, `mk dev`). */
export const BOOT_OPTIONS: Options = {
  ...JSON_OPTION,
  "allow-downgrade": { type: "boolean" },
  "from-config": { type: "boolean" },
};
export const BOOT_HELP: [string, string][] = [
  ["--allow-downgrade", "let a service import state saved by a newer version of it"],
  ["--from-config", "ignore the boot record: boot the modules the config names"],
  [JSON_HELP[0], "log JSON lines instead of text"],
];
