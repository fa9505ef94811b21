import { describeThrown } from "@mk/common";
import { InvalidArgumentError } from "../errors.ts";

/**
 * OTP's restart types: `permanent` always restarts after a crash; `transient`
 * too, unless the reason given to `ctx.fail` has `normal: true` (an isolate
 * that exited with code 0 on its own), which leaves it `stopped`; `temporary`
 * never restarts (status `failed`).
 */
export type RestartType = "permanent" | "transient" | "temporary";

/** `kernel.on("crash" | "restart" | "gave-up")`: which service, why, and how many restarts it has had so far. */
export interface SupervisionEvent {
  name: string;
  error: Error;
  restarts: number;
}

/** `KernelOptions.supervision`: how the kernel restarts crashed services. */
export interface SupervisionOptions {
  /**
   * `one_for_one`: only the crashed service restarts. `rest_for_one`: its
   * running dependents (transitively) are stopped first and restarted after
   * it, dependencies first.
   * @default "one_for_one"
   */
  strategy?: "one_for_one" | "rest_for_one";
  /** Restarts allowed within `periodMs`; one more crash gives up on the service. @default 3 */
  maxRestarts?: number;
  /** @default 5000 */
  periodMs?: number;
  /** Jittered exponential delay before each restart: `initialMs`, doubling per restart in the period, at most `maxMs`. @default { initialMs: 100, maxMs: 5000 } */
  backoff?: { initialMs?: number; maxMs?: number };
  /** `"fail"`: the service stays `failed`, the rest runs on. `"exit"`: the kernel closes and the process exits with code 1. @default "fail" */
  onGiveUp?: "fail" | "exit";
}

/** {@link SupervisionOptions} with every default filled in. */
export interface SupervisionPolicy {
  strategy: "one_for_one" | "rest_for_one";
  maxRestarts: number;
  periodMs: number;
  initialMs: number;
  maxMs: number;
  onGiveUp: "fail" | "exit";
}

function duration(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 2_147_483_647)
    throw new InvalidArgumentError(
      `expected supervision.${key} to be a number of milliseconds in [0, 2147483647], got ${show(value)}`,
    );
  return value;
}

/**
 * Checks `KernelOptions.supervision` and fills in `defaults` (the kernel's, from options.ts).
 * @throws {InvalidArgumentError} naming the option and what came.
 */
export function supervisionPolicy(options: unknown, defaults: SupervisionPolicy): SupervisionPolicy {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(
      `expected supervision to be an object, got ${options === null ? "null" : typeof options}`,
    );
  const o = options as Record<string, unknown>;
  const strategy = o["strategy"] ?? defaults.strategy;
  if (strategy !== "one_for_one" && strategy !== "rest_for_one")
    throw new InvalidArgumentError(
      `expected supervision.strategy "one_for_one" or "rest_for_one", got ${show(strategy)}`,
    );
  const onGiveUp = o["onGiveUp"] ?? defaults.onGiveUp;
  if (onGiveUp !== "fail" && onGiveUp !== "exit")
    throw new InvalidArgumentError(`expected supervision.onGiveUp "fail" or "exit", got ${show(onGiveUp)}`);
  const maxRestarts = o["maxRestarts"] ?? defaults.maxRestarts;
  if (typeof maxRestarts !== "number" || !Number.isInteger(maxRestarts) || maxRestarts < 0)
    throw new InvalidArgumentError(`expected supervision.maxRestarts to be an integer >= 0, got ${show(maxRestarts)}`);
  const backoff = o["backoff"] ?? {};
  if (typeof backoff !== "object" || backoff === null)
    throw new InvalidArgumentError(
      `expected supervision.backoff to be an object, got ${backoff === null ? "null" : typeof backoff}`,
    );
  const b = backoff as Record<string, unknown>;
  const initialMs = duration("backoff.initialMs", b["initialMs"], defaults.initialMs);
  const maxMs = duration("backoff.maxMs", b["maxMs"], Math.max(defaults.maxMs, initialMs));
  if (maxMs < initialMs)
    throw new InvalidArgumentError(
      `expected supervision.backoff.maxMs (${maxMs}) to be >= backoff.initialMs (${initialMs})`,
    );
  return {
    strategy,
    maxRestarts,
    periodMs: duration("periodMs", o["periodMs"], defaults.periodMs),
    initialMs,
    maxMs,
    onGiveUp,
  };
}

/** @throws {InvalidArgumentError} for a `restart` that is not one of the three types. */
export function assertRestartType(name: string, value: unknown): void {
  if (value === undefined || value === "permanent" || value === "transient" || value === "temporary") return;
  throw new InvalidArgumentError(
    `service "${name}": expected restart "permanent", "transient" or "temporary", got ${show(value)}`,
    name,
  );
}

/** What came, for a message: quoted when a string, else described safely (JSON.stringify throws on a bigint). */
function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : describeThrown(value, 80);
}
