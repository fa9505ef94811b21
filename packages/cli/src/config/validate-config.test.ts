import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { validateConfig } from "./validate-config.ts";

const FILE = "/app/mk.config.js";

function problem(value: unknown): ConfigError {
  try {
    validateConfig(value, FILE);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("validateConfig", () => {
  it("accepts the API's example and every documented field", () => {
    const config = {
      services: [
        { name: "db", module: "./db.js" },
        {
          name: "echo",
          module: new URL("file:///srv/echo.js"),
          export: "Echo",
          mode: "in-process",
          dependencies: ["db"],
          restart: "transient",
          startTimeoutMs: 10,
          stopTimeoutMs: 20,
        },
      ],
      store: "file:./state",
      key: { env: "MK_STATE_KEY", id: 2 },
      previousKeys: [
        { file: "./old.key", id: 1 },
        { passphraseEnv: "MK_PASSPHRASE", params: "./kdf.json" },
      ],
      logger: { level: "debug", format: "json" },
      checkpointIntervalMs: 0,
      defaultTimeoutMs: 100,
      queueCapacity: 5,
      startTimeoutMs: 1,
      stopTimeoutMs: 1,
    };
    expect(validateConfig(config, FILE)).toBe(config);
  });

  it.each([
    [undefined, "default export", "an object such as defineConfig"],
    [{}, "services", "an array of { name, module }"],
    [{ services: [{ name: "../x", module: "./x.js" }] }, "services[0].name", "a service name matching"],
    [{ services: [{ name: "a", module: "" }] }, "services[0].module", "a path relative to the config file"],
    [{ services: [{ name: "a", module: new URL("https://x.test/a.js") }] }, "services[0].module", "a file: URL"],
    [
      { services: [{ name: "a", module: "./a.js", mode: "fiber" }] },
      "services[0].mode",
      '"in-process", "thread", "process"',
    ],
    [
      {
        services: [
          { name: "a", module: "./a.js" },
          { name: "a", module: "./b.js" },
        ],
      },
      "services[1].name",
      "not used by another",
    ],
    [
      { services: [{ name: "a", module: "./a.js", dependencies: ["a"] }] },
      "services[0].dependencies[0]",
      "not its own",
    ],
    [{ services: [], key: { env: "A", file: "b" } }, "key", "exactly one of"],
    [{ services: [], key: { env: "0123456789abcdef" } }, "key.env", "the key itself never goes in the config"],
    [{ services: [], key: { env: "K", id: -1 } }, "key.id", "0..4294967295"],
    [{ services: [], logger: { level: "loud" } }, "logger.level", '"debug", "info", "warn", "error"'],
    [{ services: [], checkpointIntervalMs: "2s" }, "checkpointIntervalMs", "a number of milliseconds >= 0"],
    [{ services: [], queueCapacity: 0 }, "queueCapacity", "an integer >= 1"],
    [{ services: [], store: "" }, "store", 'a store URL such as "file:./state"'],
    [{ services: [{ name: "a", module: "./a.js", modul: "x" }] }, "services[0].modul", "unknown field"],
  ])("%j: names the field %s and what was expected", (value, field, expected) => {
    const error = problem(value);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.file).toBe(FILE);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${FILE}: ${field}: `)).toBe(true);
    expect(error.message).toContain(expected);
  });

  it("never throws anything but a ConfigError for any value, and never hangs on cycles", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          validateConfig(value, FILE);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 300 },
    );
    const cyclic: Record<string, unknown> = { services: [] };
    cyclic["logger"] = cyclic;
    expect(problem(cyclic).field).toBe("logger.services");
  });
});
