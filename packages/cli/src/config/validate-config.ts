import { SERVICE_NAME_PATTERN } from "@mk/common";
import { ConfigError } from "../errors.ts";
import type { KeySource, MkConfig, ServiceConfig } from "./types.ts";

const NAME = SERVICE_NAME_PATTERN;
const MODES = ["in-process", "thread", "process"] as const;
const RESTARTS = ["permanent", "transient", "temporary"] as const;
const LEVELS = ["debug", "info", "warn", "error"] as const;
const FORMATS = ["text", "json"] as const;
const TOP = [
  "services",
  "store",
  "key",
  "previousKeys",
  "logger",
  "checkpointIntervalMs",
  "defaultTimeoutMs",
  "queueCapacity",
  "startTimeoutMs",
  "stopTimeoutMs",
  "supervision",
] as const;
const SERVICE_FIELDS = [
  "name",
  "module",
  "export",
  "mode",
  "dependencies",
  "restart",
  "startTimeoutMs",
  "stopTimeoutMs",
  "version",
  "hangTimeoutMs",
  "resourceLimits",
] as const;
const LIMITS = ["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"] as const;

/** What a value looks like in a message: JSON where it can be, its type otherwise. */
export function shown(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof URL) return `URL ${value.href}`;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return typeof value;
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // A cycle cannot be printed as JSON; its type is enough to say what came.
    return typeof value;
  }
}

/**
 * Checks the default export of `file` field by field. Unknown fields are refused (a typo
 * must not be silently ignored). Returns the config with its type.
 * @throws {ConfigError} `CONFIG_INVALID` naming the file, the field and what was expected.
 */
export function validateConfig(value: unknown, file: string): MkConfig {
  const fail = (field: string, expected: string, got: unknown): ConfigError =>
    new ConfigError("CONFIG_INVALID", file, `${file}: ${field}: expected ${expected}, got ${shown(got)}`, { field });
  if (!isPlainObject(value)) {
    throw fail("default export", "an object such as defineConfig({ services: [...] }) (export default ...)", value);
  }
  unknownFields(value, TOP, "", file);
  const services = value["services"];
  if (!Array.isArray(services)) throw fail("services", "an array of { name, module }", services);
  const names = new Set<string>();
  services.forEach((service: unknown, index) => {
    const at = `services[${index}]`;
    checkService(service, at, fail, file);
    const name = service.name;
    if (names.has(name)) throw fail(`${at}.name`, "a name not used by another service", name);
    names.add(name);
  });
  services.forEach((service: ServiceConfig, index) => {
    (service.dependencies ?? []).forEach((dependency, d) => {
      if (!names.has(dependency)) {
        throw fail(
          `services[${index}].dependencies[${d}]`,
          `the name of a service in this config (${[...names].join(", ") || "none"})`,
          dependency,
        );
      }
    });
  });
  const store = value["store"];
  if (store !== undefined && (typeof store !== "string" || store === "")) {
    throw fail("store", 'a store URL such as "file:./state"', store);
  }
  if (value["key"] !== undefined) checkKey(value["key"], "key", fail, file);
  const previous = value["previousKeys"];
  if (previous !== undefined) {
    if (!Array.isArray(previous)) throw fail("previousKeys", "an array of key sources", previous);
    previous.forEach((key: unknown, i) => checkKey(key, `previousKeys[${i}]`, fail, file));
  }
  const logger = value["logger"];
  if (logger !== undefined) {
    if (!isPlainObject(logger)) throw fail("logger", "an object { level?, format? }", logger);
    unknownFields(logger, ["level", "format"], "logger.", file);
    oneOf(logger["level"], LEVELS, "logger.level", fail);
    oneOf(logger["format"], FORMATS, "logger.format", fail);
  }
  for (const key of ["checkpointIntervalMs", "defaultTimeoutMs", "startTimeoutMs", "stopTimeoutMs"] as const) {
    milliseconds(value[key], key, fail);
  }
  const capacity = value["queueCapacity"];
  if (capacity !== undefined && (!Number.isSafeInteger(capacity) || (capacity as number) < 1)) {
    throw fail("queueCapacity", "an integer >= 1", capacity);
  }
  const supervision = value["supervision"];
  if (supervision !== undefined && !isPlainObject(supervision)) {
    throw fail("supervision", "an object { strategy?, maxRestarts?, periodMs?, backoff?, onGiveUp? }", supervision);
  }
  return value as unknown as MkConfig;
}

type Fail = (field: string, expected: string, got: unknown) => ConfigError;

function checkService(service: unknown, at: string, fail: Fail, file: string): asserts service is ServiceConfig {
  if (!isPlainObject(service)) throw fail(at, "an object { name, module, mode?, dependencies? }", service);
  unknownFields(service, SERVICE_FIELDS, `${at}.`, file);
  const name = service["name"];
  if (typeof name !== "string" || !NAME.test(name)) {
    throw fail(`${at}.name`, `a service name matching ${NAME.source}`, name);
  }
  const module = service["module"];
  if (!(module instanceof URL) && (typeof module !== "string" || module.trim() === "")) {
    throw fail(`${at}.module`, "a path relative to the config file, or a file: URL", module);
  }
  if (module instanceof URL && module.protocol !== "file:") {
    throw fail(`${at}.module`, "a file: URL", module);
  }
  const exported = service["export"];
  if (exported !== undefined && (typeof exported !== "string" || exported === "")) {
    throw fail(`${at}.export`, 'the name of an export of the module (e.g. "default")', exported);
  }
  oneOf(service["mode"], MODES, `${at}.mode`, fail);
  oneOf(service["restart"], RESTARTS, `${at}.restart`, fail);
  const dependencies = service["dependencies"];
  if (dependencies !== undefined) {
    if (!Array.isArray(dependencies)) throw fail(`${at}.dependencies`, "an array of service names", dependencies);
    dependencies.forEach((d: unknown, i) => {
      if (typeof d !== "string" || !NAME.test(d)) throw fail(`${at}.dependencies[${i}]`, "a service name", d);
      if (d === name) throw fail(`${at}.dependencies[${i}]`, "another service's name (not its own)", d);
    });
  }
  milliseconds(service["startTimeoutMs"], `${at}.startTimeoutMs`, fail);
  milliseconds(service["stopTimeoutMs"], `${at}.stopTimeoutMs`, fail);
  milliseconds(service["hangTimeoutMs"], `${at}.hangTimeoutMs`, fail);
  const version = service["version"];
  if (version !== undefined && (typeof version !== "string" || version === "")) {
    throw fail(`${at}.version`, 'a version string such as "1.2.0"', version);
  }
  const isolatedOnly = ["hangTimeoutMs", "resourceLimits"].filter((k) => service[k] !== undefined);
  const mode = service["mode"] ?? "in-process";
  if (mode === "in-process" && isolatedOnly.length > 0) {
    throw fail(
      `${at}.${isolatedOnly[0]}`,
      'mode "thread" or "process" (it applies to isolated services only)',
      service[isolatedOnly[0] ?? ""],
    );
  }
  if (mode !== "in-process" && exported !== undefined && exported !== "default") {
    throw fail(`${at}.export`, `"default" (an isolated service is its module's default export)`, exported);
  }
  const limits = service["resourceLimits"];
  if (limits !== undefined) {
    if (!isPlainObject(limits)) throw fail(`${at}.resourceLimits`, `an object with ${LIMITS.join(", ")}`, limits);
    unknownFields(limits, LIMITS, `${at}.resourceLimits.`, file);
    for (const key of LIMITS) {
      const value = limits[key];
      if (value !== undefined && (typeof value !== "number" || !(value > 0))) {
        throw fail(`${at}.resourceLimits.${key}`, "a positive number of MB", value);
      }
    }
  }
}

function checkKey(key: unknown, at: string, fail: Fail, file: string): asserts key is KeySource {
  const expected = '{ env: "VAR" }, { file: "./state.key" } or { passphraseEnv: "VAR" }';
  if (!isPlainObject(key)) throw fail(at, expected, key);
  const kinds = ["env", "file", "passphraseEnv"].filter((k) => k in key);
  if (kinds.length !== 1) throw fail(at, `exactly one of ${expected}`, key);
  const kind = kinds[0] as "env" | "file" | "passphraseEnv";
  unknownFields(key, kind === "passphraseEnv" ? [kind, "params", "id"] : [kind, "id"], `${at}.`, file);
  const source = key[kind];
  if (typeof source !== "string" || source === "") {
    throw fail(`${at}.${kind}`, kind === "file" ? "a path to a key file" : "an environment variable name", source);
  }
  if (kind !== "file" && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(source)) {
    throw fail(`${at}.${kind}`, "an environment variable name (the key itself never goes in the config)", "a value");
  }
  const params = key["params"];
  if (params !== undefined && (typeof params !== "string" || params === "")) {
    throw fail(`${at}.params`, "a path to the scrypt parameters file", params);
  }
  const id = key["id"];
  if (id !== undefined && (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) > 0xffff_ffff)) {
    throw fail(`${at}.id`, "an integer key id in 0..4294967295", id);
  }
}

function milliseconds(value: unknown, field: string, fail: Fail): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw fail(field, "a number of milliseconds >= 0", value);
  }
}

function oneOf(value: unknown, allowed: readonly string[], field: string, fail: Fail): void {
  if (value === undefined) return;
  if (typeof value !== "string" || !allowed.includes(value)) {
    throw fail(field, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`, value);
  }
}

function unknownFields(value: Record<string, unknown>, known: readonly string[], prefix: string, file: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigError(
        "CONFIG_INVALID",
        file,
        `${file}: ${prefix}${key}: unknown field; expected one of ${known.join(", ")}`,
        { field: `${prefix}${key}` },
      );
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
