import { resolve } from "node:path";
import { isLevel, LEVELS } from "@mk/logger";
import { findConfig } from "../config/load-config.ts";
import { callKernel } from "../control/control-client.ts";
import type { ControlRequest } from "../control/protocol.ts";
import { socketPathFor } from "../control/runtime-dir.ts";
import { printJson, println, type Command, type CommandContext, type Flags } from "../command.ts";
import { UsageError } from "../errors.ts";
import type { KernelStatus } from "../runtime/runtime.ts";
import { CONTROL_HELP, CONTROL_OPTIONS } from "./common-options.ts";

const DEFAULT_TIMEOUT_MS = 120_000;

async function call(flags: Flags, context: CommandContext, request: ControlRequest): Promise<unknown> {
  const socket =
    typeof flags["socket"] === "string"
      ? resolve(context.cwd, flags["socket"])
      : socketPathFor(await findConfig(flags["config"] as string | undefined, context.cwd), context.env);
  let timeout = DEFAULT_TIMEOUT_MS;
  if (typeof flags["timeout"] === "string") {
    timeout = Number(flags["timeout"]);
    if (!Number.isSafeInteger(timeout) || timeout <= 0) {
      throw new UsageError(`--timeout: expected a number of milliseconds > 0, got ${JSON.stringify(flags["timeout"])}`);
    }
  }
  return callKernel(socket, request, timeout);
}

function ago(iso: string | undefined): string {
  if (iso === undefined) return "never";
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 120 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`;
}

/** The `mk ps` table. */
export function formatStatus(status: KernelStatus): string[] {
  const header = [
    "NAME",
    "STATUS",
    "VERSION",
    "MODE",
    "RESTARTS",
    "HANDLED",
    "FAILED",
    "TIMED OUT",
    "REFUSED",
    "LAST SAVE",
  ];
  const rows = status.services.map((s) => [
    s.name,
    s.status,
    s.version ?? "-",
    s.mode,
    String(s.restarts),
    String(s.stats.handled),
    String(s.stats.failed),
    String(s.stats.timedOut),
    String(s.stats.refused),
    ago(s.lastCheckpoint),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    `kernel pid ${status.pid}, config ${status.config}, store ${status.store}, up since ${status.startedAt}`,
    line(header),
    ...rows.map(line),
  ];
}

export const psCommand: Command = {
  name: "ps",
  summary: "list the services of a running kernel: status, version, mode, restarts, counters, last save",
  usage: "ps [-c CONFIG | --socket PATH] [--json]",
  options: CONTROL_OPTIONS,
  optionHelp: CONTROL_HELP,
  examples: ["mk ps", "mk ps --json | jq '.services[] | {name, status}'", "mk ps -c ../api/mk.config.js"],
  positionals: [0, 0],
  async run(_positionals, flags, context) {
    const status = (await call(flags, context, { op: "ps" })) as KernelStatus;
    if (flags["json"] === true) printJson(context, status);
    else for (const line of formatStatus(status)) println(context, line);
    return 0;
  },
};

export const swapCommand: Command = {
  name: "swap",
  summary: "hot-swap a service of a running kernel for new code, keeping its state; the next run boots it too",
  usage: "swap NAME MODULE [--export NAME] [--version V] [-c CONFIG | --socket PATH] [--json]",
  details: ["MODULE is a path (relative to this folder) to the new code; on failure the old version keeps serving."],
  options: { ...CONTROL_OPTIONS, export: { type: "string" }, version: { type: "string" } },
  optionHelp: [
    ["--export NAME", "the module's export that makes the service (default: as in the config)"],
    ["--version V", "the new version, for an isolated service (its module loads only inside the isolate)"],
    ...CONTROL_HELP,
  ],
  examples: ["mk swap echo ./services/echo-v2.js", "mk swap echo ./dist/echo.js --export EchoV2 --json"],
  positionals: [2, 2],
  async run([name = "", module = ""], flags, context) {
    const request: ControlRequest = { op: "swap", name, module: resolve(context.cwd, module) };
    if (typeof flags["export"] === "string") request.export = flags["export"];
    if (typeof flags["version"] === "string") request.version = flags["version"];
    const result = (await call(flags, context, request)) as { from?: string; to?: string };
    if (flags["json"] === true) printJson(context, { swapped: name, ...result });
    else println(context, `swapped ${name}: ${result.from ?? "(no version)"} -> ${result.to ?? "(no version)"}`);
    return 0;
  },
};

function simple(op: "stop" | "start", summary: string, verb: string): Command {
  return {
    name: op,
    summary,
    usage: `${op} NAME [-c CONFIG | --socket PATH] [--json]`,
    options: CONTROL_OPTIONS,
    optionHelp: CONTROL_HELP,
    examples: [`mk ${op} echo`],
    positionals: [1, 1],
    async run([name = ""], flags, context) {
      await call(flags, context, { op, name });
      if (flags["json"] === true) printJson(context, { [verb]: name });
      else println(context, `${verb} ${name}`);
      return 0;
    },
  };
}

export const stopCommand: Command = simple(
  "stop",
  "stop a service of a running kernel (its dependents first), saving its state",
  "stopped",
);
export const startCommand: Command = simple(
  "start",
  "start a stopped service of a running kernel (its dependencies first)",
  "started",
);

export const checkpointCommand: Command = {
  name: "checkpoint",
  summary: "save the state of every running service of a running kernel now",
  usage: "checkpoint [-c CONFIG | --socket PATH] [--json]",
  options: CONTROL_OPTIONS,
  optionHelp: CONTROL_HELP,
  examples: ["mk checkpoint", "mk checkpoint --json"],
  positionals: [0, 0],
  async run(_positionals, flags, context) {
    const status = (await call(flags, context, { op: "checkpoint" })) as KernelStatus;
    if (flags["json"] === true) printJson(context, { checkpoint: "saved", services: status.services });
    else
      println(
        context,
        `checkpoint saved: ${
          status.services
            .filter((s) => s.status === "running")
            .map((s) => s.name)
            .join(", ") || "no running services"
        }`,
      );
    return 0;
  },
};

export const logLevelCommand: Command = {
  name: "log-level",
  summary: "change the log level of a running kernel, or of one of its services",
  usage: "log-level LEVEL [NAME] [-c CONFIG | --socket PATH] [--json]",
  details: [`LEVEL is one of ${LEVELS.join(", ")}. Without NAME every logger follows it.`],
  options: CONTROL_OPTIONS,
  optionHelp: CONTROL_HELP,
  examples: ["mk log-level debug echo", "mk log-level warn"],
  positionals: [1, 2],
  async run([level = "", name], flags, context) {
    if (!isLevel(level)) {
      throw new UsageError(`log-level: expected one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
    }
    const request: ControlRequest = name === undefined ? { op: "log-level", level } : { op: "log-level", level, name };
    await call(flags, context, request);
    if (flags["json"] === true) printJson(context, { level, ...(name === undefined ? {} : { name }) });
    else println(context, `log level ${level}${name === undefined ? "" : ` for ${name}`}`);
    return 0;
  },
};
