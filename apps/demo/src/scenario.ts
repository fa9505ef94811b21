import { Kernel, StateLoadFailedError } from "@mk/core";
import type { Event } from "@mk/core";
import { AesGcmCrypter } from "@mk/crypto";
import type { Logger } from "@mk/logger";
import { FileStateStore } from "@mk/state";
import { describeError } from "./errors.ts";
import { explainLoadFailure } from "./load-failure.ts";
import { CheckpointLog, narrateKernel, type CheckpointWait } from "./narration.ts";
import type { DemoOptions } from "./options.ts";
import { replyText } from "./reply-text.ts";
import { EchoV1 } from "./services/echo-v1.ts";
import { EchoV2 } from "./services/echo-v2.ts";
import { LoggerService } from "./services/logger-service.ts";
import { importLegacyState, resetState } from "./state-files.ts";

/** What a run leaves behind, for tests and the closing line. */
export interface ScenarioResult {
  echoCount: number;
  loggerLines: number;
}

/**
 * The reference scenario (DESIGN.md, "The demo scenario"), told through
 * `root`: `demo` lines are the story, `kernel`, `echo` and `logger` lines
 * come from the kernel and the services themselves.
 * @throws {DemoError} with the file and a hint when saved state cannot be read.
 */
export async function runScenario(options: DemoOptions, root: Logger): Promise<ScenarioResult> {
  const log = root.child("demo");
  const { stateDir } = options;
  log.info("state directory: %s", stateDir);
  if (options.keySource === "demo") {
    log.warn(
      "no MK_STATE_KEY: using the fixed demo key, which is public and for the demo only; set MK_STATE_KEY (16, 24 or 32 bytes of UTF-8 text, hex:... or base64:...) to protect real state",
    );
  } else {
    log.info("state key from %s (%d bytes)", options.keySource, options.key.length);
  }

  if (options.reset) await resetState(stateDir, log);
  const store = new FileStateStore(stateDir, new AesGcmCrypter(options.key));
  if (options.importLegacy !== undefined) {
    await importLegacyState(options.importLegacy, options.legacyKey, store, stateDir, log);
  }

  const kernel = new Kernel({
    store,
    logger: root.child("kernel"),
    checkpointIntervalMs: options.checkpointMs,
    defaultTimeoutMs: 2_000,
  });
  const stopNarrating = narrateKernel(kernel, log);
  const checkpoints = new CheckpointLog(kernel);
  let started = false;
  let result: ScenarioResult;
  let checkpoint: CheckpointWait | undefined;
  try {
    // 1. Register: the kernel imports each service's saved state, if any.
    const logger = new LoggerService();
    const echo = new EchoV1();
    await register(kernel, logger, stateDir);
    log.info(
      "logger %s (depends on %s): %s",
      logger.version,
      logger.dependencies.join(", "),
      logger.imported === undefined
        ? "no saved state"
        : `imported its saved state, ${logger.imported} lines logged so far`,
    );
    await register(kernel, echo, stateDir);
    const imported = echo.imported;
    log.info(
      "echo %s: %s",
      echo.version,
      imported === undefined
        ? "no saved state, count starts at 0"
        : `imported its saved state, count is ${imported.count}${imported.fromVersion === undefined ? " (no version recorded)" : ` (saved by ${imported.fromVersion})`}`,
    );

    // 2. Start all: dependencies first, so echo before logger.
    log.info("starting all services (dependencies first)...");
    started = true;
    await kernel.startAll();

    // 3. The logger logs two lines, pushing them through the kernel's queue.
    await logger.done();
    const loggerChanged = checkpoints.mark();

    // 4. A direct call from the kernel's side to echo v1.
    const hello: Event = { to: "echo", from: "kernel", type: "log", content: "Hello, Log!" };
    log.info("send to echo: %s", String(hello.content));
    log.info("reply from echo %s: %s", echo.version, replyText(await kernel.send(hello)));

    // 5. Hot swap: v1 exports its counter, v2 imports it and takes over.
    const echo2 = new EchoV2();
    log.info(
      "hot-swapping echo %s -> %s while it runs (v1 has counted %d)...",
      echo.version,
      echo2.version,
      echo.count,
    );
    await kernel.replace(echo2);
    log.info(
      "swapped: echo %s is %s, carrying the migrated state: count %d (exported by %s)",
      echo2.version,
      kernel.status("echo"),
      echo2.count,
      echo2.imported?.fromVersion ?? "?",
    );
    // Marked before the message: a checkpoint may save its effect at any moment after it.
    const echoChanged = checkpoints.mark();
    log.info("send to echo: %s", String(hello.content));
    log.info("reply from echo %s: %s", echo2.version, replyText(await kernel.send(hello)));

    // 6. Let the periodic checkpoint save both changed services while everything is up.
    if (options.checkpointMs > 0) {
      checkpoint = checkpoints.waitFor(
        { logger: loggerChanged, echo: echoChanged },
        Math.max(2_000, options.checkpointMs * 5),
      );
    }
    await checkpointOnce(kernel, options.checkpointMs, checkpoint, log);

    // 7. An event without `to` is for the kernel itself.
    log.info("send to the kernel itself: log");
    log.info("reply from the kernel: %s", replyText(await kernel.send({ from: "main", type: "log", content: "log" })));

    // 8. Stop all: dependents first, so logger before echo; each state is saved.
    log.info("stopping all services (dependents first)...");
    await kernel.stopAll();
    started = false;
    result = { echoCount: echo2.count, loggerLines: logger.logged };
  } finally {
    checkpoint?.cancel();
    if (started) await stopAfterFailure(kernel, log);
    checkpoints.close();
    stopNarrating();
    await kernel.close();
    // Releases the state directory's lock, so the next run (or another process) can open it.
    await store.close();
  }
  log.info(
    "state persisted in %s: echo.state (count %d), logger.state (%d lines); run again to continue from there",
    stateDir,
    result.echoCount,
    result.loggerLines,
  );
  return result;
}

async function register(kernel: Kernel, service: EchoV1 | LoggerService, stateDir: string): Promise<void> {
  try {
    await kernel.register(service);
  } catch (error) {
    if (error instanceof StateLoadFailedError) {
      // The store refuses the file and the kernel does not register the
      // service, so nothing will overwrite the file: it stays for the user to decide.
      throw explainLoadFailure(error, service.name, stateDir);
    }
    throw error;
  }
}

async function checkpointOnce(
  kernel: Kernel,
  intervalMs: number,
  next: CheckpointWait | undefined,
  log: Logger,
): Promise<void> {
  if (next !== undefined) {
    log.info("waiting for the periodic checkpoint (every %d ms) to save logger and echo...", intervalMs);
    if (await next.saved) return;
    log.info("the periodic checkpoint did not save both in time; checkpointing explicitly with kernel.checkpoint()");
  } else {
    log.info("periodic checkpoints are off (--checkpoint-ms 0): checkpointing explicitly with kernel.checkpoint()");
  }
  await kernel.checkpoint();
}

/** After a failure mid-scenario: stop what runs, so its state is saved, and say what did not stop. */
async function stopAfterFailure(kernel: Kernel, log: Logger): Promise<void> {
  try {
    await kernel.stopAll();
  } catch (error) {
    log.error("could not stop every service: %s", describeError(error));
  }
}
