import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidArgumentError, ModuleLoadError } from "./errors.ts";
import type { ResourceLimits } from "./transport.ts";

/** How an isolated service runs. */
export type IsolateMode = "thread" | "process";

/** OTP's restart types: `permanent` always, `transient` only after a crash, `temporary` never. */
export type RestartPolicy = "permanent" | "transient" | "temporary";

/** Options of {@link isolated}. */
export interface IsolatedOptions {
  /** The service's name in the kernel: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`. */
  name: string;
  /**
   * The module whose default export is the service (without a `name`): a
   * `URL` (`new URL("./echo.js", import.meta.url)`), a `file:` URL string or
   * an absolute path. Loaded inside the isolate only, never in the kernel.
   */
  module: string | URL;
  /** `"thread"`: a worker_threads Worker. `"process"`: a child process (native addons, code that may segfault or abort). @default "thread" */
  mode?: IsolateMode;
  /** Reported to the kernel (events, swap log lines). */
  version?: string;
  /** Names of the services that must run before this one. */
  dependencies?: readonly string[];
  /** @default "permanent" */
  restart?: RestartPolicy;
  /** Heap caps (threads: all of them; processes: `maxOldGenerationSizeMb`). Past them the isolate dies: a crash, not a kernel death. */
  resourceLimits?: ResourceLimits;
  /** An isolate whose event loop does not answer the heartbeat for this long is killed (a crash). 0 turns it off. @default 5000 */
  hangTimeoutMs?: number;
  /** Overrides the kernel's start deadline (spawn, load, import and start together). */
  startTimeoutMs?: number;
  /** Overrides the kernel's stop deadline. */
  stopTimeoutMs?: number;
}

export interface CheckedOptions {
  name: string;
  module: string;
  mode: IsolateMode;
  hangTimeoutMs: number;
  resourceLimits: ResourceLimits | undefined;
}

const LIMIT_KEYS = ["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"] as const;

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

/** @throws {InvalidArgumentError} naming the option and what came. */
export function checkOptions(options: unknown): CheckedOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("", `isolated(): expected an options object, got ${kind(options)}`);
  }
  const o = options as Partial<Record<keyof IsolatedOptions, unknown>>;
  if (typeof o.name !== "string") {
    throw new InvalidArgumentError("", `isolated(): expected "name" to be a string, got ${kind(o.name)}`);
  }
  const name = o.name;
  const bad = (message: string): InvalidArgumentError => new InvalidArgumentError(name, message);
  const mode = o.mode ?? "thread";
  if (mode !== "thread" && mode !== "process")
    throw bad(`expected mode "thread" or "process", got ${JSON.stringify(mode)}`);
  const hangTimeoutMs = o.hangTimeoutMs ?? 5000;
  if (
    typeof hangTimeoutMs !== "number" ||
    !Number.isFinite(hangTimeoutMs) ||
    hangTimeoutMs < 0 ||
    hangTimeoutMs > 2_147_483_647
  ) {
    throw bad(
      `expected hangTimeoutMs to be a number of ms in [0, 2147483647], got ${typeof hangTimeoutMs === "number" ? hangTimeoutMs : kind(hangTimeoutMs)}`,
    );
  }
  if (o.restart !== undefined && o.restart !== "permanent" && o.restart !== "transient" && o.restart !== "temporary") {
    throw bad(`expected restart "permanent", "transient" or "temporary", got ${JSON.stringify(o.restart)}`);
  }
  if (o.version !== undefined && typeof o.version !== "string")
    throw bad(`expected version to be a string, got ${kind(o.version)}`);
  if (
    o.dependencies !== undefined &&
    !(Array.isArray(o.dependencies) && o.dependencies.every((d) => typeof d === "string"))
  ) {
    throw bad(`expected dependencies to be an array of service names, got ${kind(o.dependencies)}`);
  }
  for (const key of ["startTimeoutMs", "stopTimeoutMs"] as const) {
    const value = o[key];
    if (value !== undefined && !(typeof value === "number" && value > 0 && value <= 2_147_483_647)) {
      throw bad(
        `expected ${key} to be a number of ms in (0, 2147483647], got ${typeof value === "number" ? value : kind(value)}`,
      );
    }
  }
  let resourceLimits: ResourceLimits | undefined;
  if (o.resourceLimits !== undefined) {
    if (typeof o.resourceLimits !== "object" || o.resourceLimits === null) {
      throw bad(`expected resourceLimits to be an object, got ${kind(o.resourceLimits)}`);
    }
    const limits = o.resourceLimits as Record<string, unknown>;
    resourceLimits = {};
    for (const key of Object.keys(limits)) {
      const value = limits[key];
      if (!(LIMIT_KEYS as readonly string[]).includes(key))
        throw bad(`unknown resourceLimits key "${key}" (expected ${LIMIT_KEYS.join(", ")})`);
      if (typeof value !== "number" || !(value > 0))
        throw bad(`expected resourceLimits.${key} to be a positive number of MB, got ${String(value)}`);
      resourceLimits[key as (typeof LIMIT_KEYS)[number]] = value;
    }
  }
  return { name, module: moduleHref(name, o.module), mode, hangTimeoutMs, resourceLimits };
}

function moduleHref(name: string, module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    throw new InvalidArgumentError(name, `expected module to be a URL or an absolute path, got ${kind(module)}`);
  }
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (/^(file|data):/.test(module)) return module;
  throw new InvalidArgumentError(
    name,
    `expected module to be a URL or an absolute path, got ${JSON.stringify(module)} (use new URL("./x.js", import.meta.url))`,
  );
}

/**
 * A `file:` module that does not exist is refused before any isolate is
 * spawned. Other URLs are left to the isolate's import.
 * @throws {ModuleLoadError} `MODULE_NOT_FOUND`
 */
export function assertModuleExists(name: string, href: string): void {
  if (!href.startsWith("file:")) return;
  let path: string;
  try {
    path = fileURLToPath(href);
  } catch (error) {
    throw new ModuleLoadError("MODULE_NOT_FOUND", name, href, "is not a valid file URL", error);
  }
  if (!existsSync(path))
    throw new ModuleLoadError("MODULE_NOT_FOUND", name, href, `does not exist (no file at ${path})`);
}
