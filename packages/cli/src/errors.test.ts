import { describe, expect, it } from "vitest";
import { CliError, ConfigError, ControlError, KeyError, UsageError, type CliErrorCode } from "./errors.ts";

// The full catalogue: a code added or removed must be added or removed here too.
const CODES: readonly CliErrorCode[] = [
  "INVALID_ARGUMENT",
  "USAGE",
  "CONFIG_NOT_FOUND",
  "CONFIG_LOAD_FAILED",
  "CONFIG_INVALID",
  "SERVICE_MODULE_FAILED",
  "KEY_MISSING",
  "KEY_INVALID",
  "KEY_FILE_UNSAFE",
  "UNSUPPORTED",
  "BOOT_REFUSED",
  "CONTROL_UNSAFE",
  "CONTROL_UNREACHABLE",
  "CONTROL_FAILED",
  "STATE_FAILED",
  "VERIFY_FAILED",
  "NOT_CONFIRMED",
  "IMPORT_INVALID",
];

describe("CliError catalogue", () => {
  it("pins every code", () => {
    type Missing = Exclude<CliErrorCode, (typeof CODES)[number]>;
    const exhaustive: Missing extends never ? true : false = true;
    expect(exhaustive).toBe(true);
    expect(new Set(CODES).size).toBe(CODES.length);
    for (const code of CODES) {
      const error = new CliError(code, `about ${code}`);
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(Error);
      expect(error.exitCode).toBe(code === "USAGE" ? 2 : 1);
    }
  });

  it("subclasses carry their codes, the cause and the hint", () => {
    const cause = new Error("root");
    const config = new ConfigError("CONFIG_INVALID", "/x/mk.config.js", "bad", {
      field: "services[0].name",
      cause,
      hint: "fix it",
    });
    expect(config).toBeInstanceOf(CliError);
    expect(config).toMatchObject({
      code: "CONFIG_INVALID",
      file: "/x/mk.config.js",
      field: "services[0].name",
      hint: "fix it",
      name: "ConfigError",
    });
    expect(config.cause).toBe(cause);
    expect(new UsageError("no").code).toBe("USAGE");
    expect(new KeyError("KEY_FILE_UNSAFE", "k").name).toBe("KeyError");
    expect(new ControlError("CONTROL_UNSAFE", "c").exitCode).toBe(1);
  });
});
