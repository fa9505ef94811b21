export { defineConfig } from "./config/types.ts";
export type { KeySource, MkConfig, ServiceConfig, ServiceMode } from "./config/types.ts";
export { loadConfig, CONFIG_NAMES } from "./config/load-config.ts";
export type { LoadedConfig } from "./config/load-config.ts";
export { main } from "./cli.ts";
export type { CommandContext } from "./command.ts";
export {
  CliError,
  ConfigError,
  ControlError,
  KeyError,
  UsageError,
  type CliErrorCode,
  type CliErrorOptions,
} from "./errors.ts";
