import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, ModuleLoadError } from "./errors.ts";
import { assertModuleExists, checkOptions } from "./options.ts";

const here = new URL(import.meta.url);

describe("checkOptions", () => {
  it("fills the defaults", () => {
    expect(checkOptions({ name: "echo", module: here })).toEqual({
      name: "echo",
      module: here.href,
      mode: "thread",
      hangTimeoutMs: 5000,
      resourceLimits: undefined,
    });
    expect(checkOptions({ name: "echo", module: "/abs/x.js" }).module).toBe("file:///abs/x.js");
  });

  it.each([
    [null, /expected an options object, got null/],
    [{ module: here }, /expected "name" to be a string, got undefined/],
    [{ name: "e", module: "./rel.js" }, /expected module to be a URL or an absolute path, got "\.\/rel\.js"/],
    [{ name: "e", module: 42 }, /expected module to be a URL or an absolute path, got number/],
    [{ name: "e", module: here, mode: "fiber" }, /expected mode "thread" or "process", got "fiber"/],
    [{ name: "e", module: here, hangTimeoutMs: -1 }, /hangTimeoutMs/],
    [{ name: "e", module: here, hangTimeoutMs: "5s" }, /hangTimeoutMs .* got string/],
    [{ name: "e", module: here, restart: "always" }, /expected restart/],
    [{ name: "e", module: here, dependencies: "db" }, /expected dependencies/],
    [{ name: "e", module: here, resourceLimits: { heapMb: 5 } }, /unknown resourceLimits key "heapMb"/],
    [{ name: "e", module: here, resourceLimits: { maxOldGenerationSizeMb: 0 } }, /positive number of MB/],
    [{ name: "e", module: here, startTimeoutMs: 0 }, /startTimeoutMs/],
  ])("refuses %j", (options, message) => {
    expect(() => checkOptions(options)).toThrow(InvalidArgumentError);
    expect(() => checkOptions(options)).toThrow(message);
  });

  it("any garbage is an InvalidArgumentError, never another error", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          checkOptions(value);
        } catch (error) {
          return error instanceof InvalidArgumentError && error.code === "INVALID_ARGUMENT";
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

describe("assertModuleExists", () => {
  it("refuses a file: URL with no file behind it", () => {
    expect(() => assertModuleExists("echo", new URL("./nope.mjs", here).href)).toThrow(ModuleLoadError);
    expect(() => assertModuleExists("echo", here.href)).not.toThrow();
    expect(() => assertModuleExists("echo", "data:text/javascript,export default {}")).not.toThrow();
  });
});
