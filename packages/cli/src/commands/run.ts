import { loadConfig } from "../config/load-config.ts";
import { ControlServer } from "../control/control-server.ts";
import { socketPathFor } from "../control/runtime-dir.ts";
import type { ControlRequest } from "../control/protocol.ts";
import type { Command, CommandContext, Flags } from "../command.ts";
import { StateLockedError } from "@mk/state";
import { ControlError, describeError } from "../errors.ts";
import { Snapshots } from "../dev/snapshots.ts";
import { KernelRuntime } from "../runtime/runtime.ts";
import { BOOT_HELP, BOOT_OPTIONS } from "./common-options.ts";

/** A running kernel with its control socket, for `mk run` and `mk dev`. */
export interface Running {
  runtime: KernelRuntime;
  control: ControlServer;
  /** Resolves with the exit code once a signal stopped everything. */
  done: Promise<number>;
}

/**
 * Loads the config, boots the kernel, opens the control socket and arranges a clean stop
 * on SIGINT/SIGTERM: stop every service (saving its state), close, exit 0. A second
 * signal during that stop ends the process at once.
 */
export async function startKernel(
  positionals: string[],
  flags: Flags,
  context: CommandContext,
  by: string,
): Promise<Running> {
  let signalled: NodeJS.Signals | undefined;
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const early = (signal: NodeJS.Signals): void => {
    if (onSignal !== undefined) onSignal(signal);
    else signalled ??= signal;
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = (): void => early(signal);
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  const loaded = await loadConfig(positionals[0], context.cwd);
  if (flags["json"] === true) loaded.config.logger = { ...loaded.config.logger, format: "json" };
  const logger = KernelRuntime.createLogger(loaded.config);
  let runtime: KernelRuntime;
  let control: ControlServer;
  try {
    runtime = await KernelRuntime.boot(loaded, logger, {
      env: context.env,
      allowDowngrade: flags["allow-downgrade"] === true,
      fromConfig: flags["from-config"] === true,
      ...(by === "mk dev" ? { snapshots: await Snapshots.fresh(loaded.dir) } : {}),
    });
  } catch (error) {
    for (const remove of handlers) remove();
    await logger.flush?.();
    throw alreadyRunning(error) ?? error;
  }
  const log = runtime.log;
  try {
    control = await ControlServer.listen(
      socketPathFor(loaded.file, context.env),
      (request) => handle(runtime, request, by),
      (error) => log.debug("control connection error: %s", describeError(error)),
    );
  } catch (error) {
    await runtime.shutdown().catch(() => {
      // The boot error below is the one to report; the stop was best effort.
    });
    for (const remove of handlers) remove();
    await logger.flush?.();
    throw error;
  }
  log.info("control socket %s (mk ps, mk swap, mk stop ... reach this kernel)", control.path);
  log.info("press Ctrl-C (SIGINT) or send SIGTERM to stop: every service is stopped and its state saved");
  const done = new Promise<number>((resolve) => {
    let stopping = false;
    onSignal = (signal) => {
      if (stopping) {
        log.warn("second %s: exiting now without waiting for the services", signal);
        void logger.flush?.().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
        return;
      }
      stopping = true;
      log.info("received %s: stopping all services", signal);
      runtime
        .shutdown()
        .then(
          () => {
            log.info("stopped; state saved. bye");
            return 0;
          },
          (error: unknown) => {
            log.error("stopping failed: %s", describeError(error));
            return 1;
          },
        )
        .then(
          async (code) => {
            await control.close();
            for (const remove of handlers) remove();
            resolve(code);
          },
          () => resolve(1),
        );
    };
    if (signalled !== undefined) onSignal(signalled);
  });
  return { runtime, control, done };
}

async function handle(runtime: KernelRuntime, request: ControlRequest, by: string): Promise<unknown> {
  switch (request.op) {
    case "ps":
      return runtime.status();
    case "swap":
      return runtime.swap(request.name, request.module, by === "mk dev" ? "mk swap (under mk dev)" : "mk swap", {
        ...(request.export === undefined ? {} : { exportName: request.export }),
        ...(request.version === undefined ? {} : { version: request.version }),
      });
    case "stop":
      await runtime.stop(request.name);
      return undefined;
    case "start":
      await runtime.start(request.name);
      return undefined;
    case "checkpoint":
      await runtime.checkpoint();
      return runtime.status();
    case "log-level":
      runtime.setLogLevel(request.level, request.name);
      return undefined;
  }
}

export const runCommand: Command = {
  name: "run",
  summary: "start the kernel and the services a config names; SIGINT/SIGTERM stop it cleanly",
  usage: "run [CONFIG] [--allow-downgrade] [--from-config] [--json]",
  details: [
    "CONFIG is a config file or a folder holding mk.config.ts, .mts, .js or .mjs (default: this folder).",
    "The state key comes from the config's key source (MK_STATE_KEY by default), never from the command line.",
    "After a hot swap, the next run boots the swapped-in module and says so; a config edited since wins again.",
  ],
  options: BOOT_OPTIONS,
  optionHelp: BOOT_HELP,
  examples: ["mk run", "MK_STATE_KEY=$(cat ~/.mk-key) mk run ./mk.config.js", "mk run --json > kernel.log"],
  positionals: [0, 1],
  async run(positionals, flags, context) {
    const running = await startKernel(positionals, flags, context, "mk run");
    const code = await running.done;
    await running.runtime.logger.close?.();
    return code;
  },
};

/**
 * A file store is locked by the process that uses it (`STATE_LOCKED`, from @mk/state),
 * so a second `mk run` of one config stops at boot, before its control socket: say
 * what that means for the user.
 */
function alreadyRunning(error: unknown): ControlError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof StateLockedError) {
      return new ControlError(
        "CONTROL_FAILED",
        `a kernel for this config is already running (process ${current.holderPid} holds its state directory)`,
        { cause: error, hint: "stop it first (SIGTERM), or use `mk ps` to look at it" },
      );
    }
    current = current.cause;
  }
  return undefined;
}
