import { existsSync } from "node:fs";
import { relative } from "node:path";
import type { Service } from "@mk/core";
import type { StateStore } from "@mk/state";
import semver from "semver";
import type { ServiceConfig } from "../config/types.ts";
import { CliError } from "../errors.ts";
import type { BootEntry, BootRecord } from "./boot-record.ts";
import { modulePath } from "./load-service.ts";

/** Which module a service boots from, and why. */
export interface PlannedService {
  config: ServiceConfig;
  /** Absolute module path. */
  path: string;
  exportName: string;
  /** The sentence `mk run` prints after "booting <name> from <module>". */
  reason: string;
  /** The boot record entry used, if any. */
  entry: BootEntry | undefined;
  /** The record's entry is stale and should be dropped once the boot succeeds. */
  forget: boolean;
}

/**
 * Picks each service's module: the one hot-swapped in last (boot record) unless the config
 * was edited for that service since, or the swapped-in file is gone.
 */
export function planBoot(services: readonly ServiceConfig[], dir: string, record: BootRecord): PlannedService[] {
  return services.map((config) => {
    const configured = modulePath(config.module, dir);
    const exportName = config.export ?? "default";
    const entry = record.get(config.name);
    if (entry === undefined) {
      return { config, path: configured, exportName, reason: "named by the config", entry, forget: false };
    }
    if (entry.configModule !== configured) {
      return {
        config,
        path: configured,
        exportName,
        reason: `named by the config, which was changed after ${entry.by} swapped in ${show(entry.module, dir)}`,
        entry,
        forget: true,
      };
    }
    if (!existsSync(entry.module)) {
      return {
        config,
        path: configured,
        exportName,
        reason: `named by the config: ${show(entry.module, dir)}, swapped in by ${entry.by} at ${entry.swappedAt}, no longer exists`,
        entry,
        forget: true,
      };
    }
    // An isolated module's version is known only from the config or the swap that brought it in.
    const isolated = (config.mode ?? "in-process") !== "in-process";
    return {
      config: isolated && entry.version !== undefined ? { ...config, version: entry.version } : config,
      path: entry.module,
      exportName: entry.export ?? "default",
      reason: `hot-swapped in by ${entry.by} at ${entry.swappedAt}${entry.version === undefined ? "" : ` (then version ${entry.version})`}, replacing the config's ${show(configured, dir)}`,
      entry,
      forget: false,
    };
  });
}

/**
 * Refuses to hand a state to code older than the code that saved it: both versions are
 * semver and the state's is greater. Versions that are not semver cannot be ordered and pass.
 * @throws {CliError} `BOOT_REFUSED`
 */
export async function checkNotOlder(
  store: StateStore,
  service: Service,
  path: string,
  allow: boolean,
): Promise<string | undefined> {
  const saved = await store.load(service.name);
  const from = saved?.version;
  const to = service.version;
  if (from === undefined || to === undefined || semver.valid(from) === null || semver.valid(to) === null)
    return undefined;
  if (!semver.gt(from, to)) return undefined;
  const what = `service "${service.name}": its state was saved by version ${from}, newer than ${to} from ${path}`;
  if (allow) return `${what}; importing it anyway (--allow-downgrade)`;
  throw new CliError("BOOT_REFUSED", `${what}: refusing to hand newer state to older code`, {
    hint: `boot the newer module (mk swap ${service.name} MODULE, or point the config at it), or pass --allow-downgrade if ${to} can read it`,
  });
}

/** A path as short as it can be shown: relative to `dir` when inside it. */
export function show(path: string, dir: string): string {
  const rel = relative(dir, path);
  return rel.startsWith("..") || rel === "" ? path : `./${rel}`;
}
