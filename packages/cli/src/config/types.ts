import type { Level } from "@mk/logger";

/** How a service runs. */
export type ServiceMode = "in-process" | "thread" | "process";

/** One service of a config. */
export interface ServiceConfig {
  /** The service name: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`. */
  name: string;
  /**
   * The module that makes the service: a path relative to the config file, or a `file:` URL.
   * Its export (see `export`) is a Service object, a class with a no-argument constructor,
   * or a function returning a Service (or a promise of one). A `name` on it must match.
   */
  module: string | URL;
  /** Which export of the module. @default "default" */
  export?: string;
  /**
   * `"in-process"` runs it in the kernel's own thread. `"thread"` (a worker thread) and
   * `"process"` (a child process) run it isolated through `@mk/isolate`: a crash, a hang or an
   * out-of-memory there never takes the kernel down, and a hot swap loads the new code in a
   * fresh isolate. An isolated module's default export is a service object (no class, no factory).
   * @default "in-process"
   */
  mode?: ServiceMode;
  /**
   * The version reported for the service. An isolated module is loaded only inside its
   * isolate, so its own `version` cannot be read by the kernel: give it here. For an
   * in-process service it fills in when the module declares none (and must match when it does).
   */
  version?: string;
  /** An isolated service whose event loop is silent this long is killed (a crash); 0 turns it off. @default 5000 */
  hangTimeoutMs?: number;
  /** Heap caps of an isolated service, in MB; past them the isolate dies (a crash, not the kernel's). */
  resourceLimits?: {
    maxOldGenerationSizeMb?: number;
    maxYoungGenerationSizeMb?: number;
    codeRangeSizeMb?: number;
    stackSizeMb?: number;
  };
  /** Services that must run before this one; added to the ones the service declares. */
  dependencies?: string[];
  /** What a crash leads to (OTP's meanings): `permanent` and `transient` restart, `temporary` stays failed. @default "permanent" */
  restart?: "permanent" | "transient" | "temporary";
  /** Deadline of this service's `start`, ms. */
  startTimeoutMs?: number;
  /** Deadline of this service's `stop`, ms. */
  stopTimeoutMs?: number;
}

/**
 * Where the state key comes from. Never from the command line (it would show in `ps`
 * and the shell history).
 * - `{ env: "MK_STATE_KEY" }`: an environment variable.
 * - `{ file: "./state.key" }`: a file (relative to the config) readable by its owner only (mode 0600 or 0400), owned by you.
 * - `{ passphraseEnv: "MK_PASSPHRASE" }`: a passphrase, stretched with scrypt; its parameters and
 *   salt are kept in `params` (created on first use, when the store is empty).
 *
 * A key is 16, 24 or 32 characters, `hex:<32, 48 or 64 hex digits>` or `base64:<16, 24 or 32 bytes>`.
 * `id` is written into every envelope the key seals, so an older key can still open what it sealed.
 */
export type KeySource =
  | { env: string; id?: number }
  | { file: string; id?: number }
  | { passphraseEnv: string; params?: string; id?: number };

/** What a config module default-exports. */
export interface MkConfig {
  /** The services to run, registered in this order and started in dependency order. */
  services: ServiceConfig[];
  /**
   * Where state lives: `file:./state` (relative to the config file) or `file:///abs/dir`.
   * `postgres://` and `nats://` are refused until those backends are available.
   * @default "file:./state"
   */
  store?: string;
  /** @default { env: "MK_STATE_KEY" } */
  key?: KeySource;
  /** Older keys that still open states they sealed (each with the `id` it sealed under); never used to seal. */
  previousKeys?: KeySource[];
  logger?: {
    /** @default "info" */
    level?: Level;
    /** @default "text" */
    format?: "text" | "json";
  };
  /** Periodic save of running exportable services; 0 turns it off. @default 2000 */
  checkpointIntervalMs?: number;
  /** Reply deadline of events without `timeoutMs`. @default 5000 */
  defaultTimeoutMs?: number;
  /** Most pushed events not yet answered. @default 1024 */
  queueCapacity?: number;
  /** Default deadline of a service's start, ms. @default 30000 */
  startTimeoutMs?: number;
  /** Default deadline of a service's stop, ms. @default 30000 */
  stopTimeoutMs?: number;
  /** How crashed services are restarted (the kernel's `supervision` option; see @mk/core). */
  supervision?: {
    strategy?: "one_for_one" | "rest_for_one";
    maxRestarts?: number;
    periodMs?: number;
    backoff?: { initialMs?: number; maxMs?: number };
    onGiveUp?: "fail" | "exit";
  };
}

/**
 * Typed identity for a config file, so an editor checks and completes it.
 *
 * @example
 * ```js
 * // mk.config.js
 * import { defineConfig } from "@mk/cli";
 * export default defineConfig({
 *   services: [{ name: "echo", module: "./services/echo.js" }],
 *   store: "file:./state",
 *   key: { env: "MK_STATE_KEY" },
 * });
 * ```
 */
export function defineConfig(config: MkConfig): MkConfig {
  return config;
}
