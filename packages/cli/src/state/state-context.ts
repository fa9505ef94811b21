import { resolve } from "node:path";
import type { AesGcmCrypter } from "@mk/crypto";
import type { StateStore } from "@mk/state";
import type { CommandContext, Flags } from "../command.ts";
import { findConfig, loadConfig } from "../config/load-config.ts";
import type { KeySource } from "../config/types.ts";
import { requestControl } from "../control/control-client.ts";
import { socketPathFor } from "../control/runtime-dir.ts";
import { CliError } from "../errors.ts";
import { DEFAULT_KEY_SOURCE, makeCrypter } from "../keys/resolve-keys.ts";
import { DEFAULT_STORE, openStore, parseStoreUrl, redact, type StoreLocation } from "../runtime/store-url.ts";

/** What every `mk state` command works with. */
export interface StateContext {
  store: StateStore;
  crypter: AesGcmCrypter;
  location: StoreLocation;
  /** For messages: the store URL without a password. */
  label: string;
  /** The config file, when one was found. */
  configFile: string | undefined;
  /** Where relative key files are read from. */
  dir: string;
  keySource: KeySource;
  previousKeys: readonly KeySource[];
}

/**
 * The store and key of `mk state`: from the config (`-c`, or mk.config.* here), with
 * `--store URL` overriding its store; without a config, `--store` and `MK_STATE_KEY`.
 */
export async function openStateContext(flags: Flags, context: CommandContext): Promise<StateContext> {
  const storeFlag = typeof flags["store"] === "string" ? flags["store"] : undefined;
  const configFlag = typeof flags["config"] === "string" ? flags["config"] : undefined;
  let configFile: string | undefined;
  if (configFlag !== undefined || storeFlag === undefined) configFile = await findConfig(configFlag, context.cwd);
  const loaded = configFile === undefined ? undefined : await loadConfig(configFile, context.cwd);
  const dir = loaded?.dir ?? context.cwd;
  const url = storeFlag ?? loaded?.config.store ?? DEFAULT_STORE;
  const location = parseStoreUrl(url, storeFlag === undefined ? dir : context.cwd);
  const keySource = loaded?.config.key ?? DEFAULT_KEY_SOURCE;
  const previousKeys = loaded?.config.previousKeys ?? [];
  const crypter = await makeCrypter(keySource, previousKeys, {
    dir,
    env: context.env,
    // Tending state never creates a passphrase's params: they come from the first `mk run`.
    mayCreateParams: () => Promise.resolve(false),
  });
  return {
    store: await openStore(location, crypter),
    crypter,
    location,
    label: redact(url),
    configFile: loaded?.file,
    dir,
    keySource,
    previousKeys,
  };
}

/**
 * Refuses to write under a running kernel of the same config: its next save would undo
 * the change (or mix keys). Stop it first.
 * @throws {CliError} `STATE_FAILED`
 */
export async function refuseWhileRunning(state: StateContext, context: CommandContext, what: string): Promise<void> {
  if (state.configFile === undefined) return;
  const socket = socketPathFor(state.configFile, context.env);
  const status = await requestControl(socket, { op: "ps" }, 5_000).catch(() => undefined);
  if (status !== undefined) {
    const pid = (status as { pid?: number }).pid;
    throw new CliError(
      "STATE_FAILED",
      `${what}: a kernel is running this config (pid ${pid ?? "?"}); nothing was changed`,
      {
        hint: "stop it first (SIGTERM), then run this again",
      },
    );
  }
}

/** Resolves a path flag against the current folder. */
export function pathFlag(flags: Flags, name: string, context: CommandContext): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? resolve(context.cwd, value) : undefined;
}
