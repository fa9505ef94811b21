import { stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Service } from "@mk/core";
import { isolated, type IsolatedOptions } from "@mk/isolate";
import { importModule } from "../config/load-config.ts";
import type { ServiceConfig } from "../config/types.ts";
import { CliError, describeError } from "../errors.ts";

const METHODS = ["start", "stop", "handle", "exportState", "importState"] as const;

/** The absolute path of a service module named in a config (relative paths are from `dir`). */
export function modulePath(module: string | URL, dir: string): string {
  if (module instanceof URL) return fileURLToPath(module);
  if (module.startsWith("file:")) return fileURLToPath(module);
  return isAbsolute(module) ? module : resolve(dir, module);
}

/** What {@link loadService} needs to know. */
export interface LoadServiceOptions {
  /** The absolute module path to load (the config's, or a swapped-in one). */
  path: string;
  /** Which export. @default "default" */
  exportName?: string;
  /** Re-evaluate the module even when it was imported before (hot reload). @default false */
  fresh?: boolean;
}

/**
 * Imports a service module and makes the Service the kernel registers: the export (an object,
 * a class, or a factory) with the config's name and the union of both dependency lists.
 * @throws {CliError} `SERVICE_MODULE_FAILED` for a missing module, one that throws, an export that
 *   is not a service, or a service whose own name differs from the config's.
 * @throws {CliError} `UNSUPPORTED` for `mode: "thread" | "process"` in this build.
 */
export async function loadService(config: ServiceConfig, options: LoadServiceOptions): Promise<Service> {
  const { name } = config;
  const mode = config.mode ?? "in-process";
  const { path } = options;
  const exportName = options.exportName ?? config.export ?? "default";
  const fail = (what: string, cause?: unknown): CliError =>
    new CliError("SERVICE_MODULE_FAILED", `service "${name}": ${what}`, cause === undefined ? {} : { cause });
  if ((await stat(path).catch(() => undefined))?.isFile() !== true) {
    throw fail(`module ${path} does not exist`);
  }
  if (mode !== "in-process") {
    if (exportName !== "default") {
      throw fail(`an isolated service is its module's default export, not "${exportName}"`);
    }
    return isolatedService(config, mode, path);
  }
  let exports: Record<string, unknown>;
  try {
    exports = await importModule(path, options.fresh === true);
  } catch (cause) {
    throw fail(`loading ${path} failed: ${describeError(cause)}`, cause);
  }
  if (!(exportName in exports)) {
    const names = Object.keys(exports);
    throw fail(
      `${path} has no export "${exportName}"; it exports ${names.length === 0 ? "nothing" : names.map((n) => `"${n}"`).join(", ")}`,
    );
  }
  let made: unknown = exports[exportName];
  try {
    if (typeof made === "function") {
      made = isClass(made) ? new (made as new () => unknown)() : await (made as () => unknown)();
    }
  } catch (cause) {
    throw fail(`making the service from ${path} (export "${exportName}") threw: ${describeError(cause)}`, cause);
  }
  if (typeof made !== "object" || made === null) {
    throw fail(
      `${path} (export "${exportName}"): expected a service object, a class or a factory function, got ${made === null ? "null" : typeof made}`,
    );
  }
  return asNamedService(made as Partial<Service>, config, path);
}

function isolatedService(config: ServiceConfig, mode: "thread" | "process", path: string): Service {
  const options: IsolatedOptions = { name: config.name, module: pathToFileURL(path), mode };
  if (config.version !== undefined) options.version = config.version;
  if (config.dependencies !== undefined) options.dependencies = config.dependencies;
  if (config.restart !== undefined) options.restart = config.restart;
  if (config.startTimeoutMs !== undefined) options.startTimeoutMs = config.startTimeoutMs;
  if (config.stopTimeoutMs !== undefined) options.stopTimeoutMs = config.stopTimeoutMs;
  if (config.hangTimeoutMs !== undefined) options.hangTimeoutMs = config.hangTimeoutMs;
  if (config.resourceLimits !== undefined) options.resourceLimits = config.resourceLimits;
  try {
    return isolated(options);
  } catch (cause) {
    throw new CliError("SERVICE_MODULE_FAILED", `service "${config.name}": ${describeError(cause)}`, { cause });
  }
}

function asNamedService(instance: Partial<Service>, config: ServiceConfig, path: string): Service {
  const { name } = config;
  if (instance.name !== undefined && instance.name !== name) {
    throw new CliError(
      "SERVICE_MODULE_FAILED",
      `service "${name}": ${path} makes a service named ${JSON.stringify(instance.name)}, expected "${name}" (or no name)`,
    );
  }
  if (!METHODS.some((m) => typeof instance[m] === "function")) {
    throw new CliError(
      "SERVICE_MODULE_FAILED",
      `service "${name}": ${path} made an object with none of ${METHODS.join(", ")}: expected a service`,
    );
  }
  const dependencies = [...new Set([...(instance.dependencies ?? []), ...(config.dependencies ?? [])])];
  if (instance.version !== undefined && config.version !== undefined && instance.version !== config.version) {
    throw new CliError(
      "SERVICE_MODULE_FAILED",
      `service "${name}": ${path} reports version ${JSON.stringify(instance.version)}, the config says ${JSON.stringify(config.version)}`,
      { hint: "remove version from the config (the module's own wins) or make them agree" },
    );
  }
  const service: { -readonly [K in keyof Service]: Service[K] } = { name, dependencies };
  const version = instance.version ?? config.version;
  if (version !== undefined) service.version = version;
  const restart = config.restart ?? instance.restart;
  if (restart !== undefined) service.restart = restart;
  const startTimeoutMs = config.startTimeoutMs ?? instance.startTimeoutMs;
  const stopTimeoutMs = config.stopTimeoutMs ?? instance.stopTimeoutMs;
  if (startTimeoutMs !== undefined) service.startTimeoutMs = startTimeoutMs;
  if (stopTimeoutMs !== undefined) service.stopTimeoutMs = stopTimeoutMs;
  // Bound, so class methods keep their `this`; only the methods the instance has, since the
  // kernel treats a missing exportState/importState as "no state".
  for (const method of METHODS) {
    const fn = instance[method];
    if (typeof fn === "function") (service as Record<string, unknown>)[method] = fn.bind(instance);
  }
  return service;
}

function isClass(fn: unknown): boolean {
  return typeof fn === "function" && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}
