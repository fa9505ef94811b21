import { describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  IsolateCrashedError,
  IsolateError,
  ISOLATE_ERROR_CODES,
  ModuleLoadError,
  NotCloneableError,
  RemoteError,
} from "./errors.ts";

describe("error catalogue", () => {
  it("pins the full list of codes", () => {
    expect(ISOLATE_ERROR_CODES).toEqual([
      "INVALID_ARGUMENT",
      "MODULE_NOT_FOUND",
      "MODULE_IMPORT_FAILED",
      "NO_DEFAULT_EXPORT",
      "NOT_A_SERVICE",
      "ISOLATE_CRASHED",
      "ISOLATE_HUNG",
      "ISOLATE_OUT_OF_MEMORY",
      "NOT_CLONEABLE",
      "REMOTE_ERROR",
    ]);
  });

  it("gives every class its code, the service it is about, and passes the cause on", () => {
    const cause = new Error("root");
    const errors: [IsolateError, string][] = [
      [new InvalidArgumentError("echo", "bad"), "INVALID_ARGUMENT"],
      [new ModuleLoadError("MODULE_NOT_FOUND", "echo", "file:///x.js", "does not exist", cause), "MODULE_NOT_FOUND"],
      [new ModuleLoadError("MODULE_IMPORT_FAILED", "echo", "file:///x.js", "threw"), "MODULE_IMPORT_FAILED"],
      [new ModuleLoadError("NO_DEFAULT_EXPORT", "echo", "file:///x.js", "none"), "NO_DEFAULT_EXPORT"],
      [new ModuleLoadError("NOT_A_SERVICE", "echo", "file:///x.js", "42"), "NOT_A_SERVICE"],
      [new IsolateCrashedError("echo", "exit", "it exited with code 1"), "ISOLATE_CRASHED"],
      [new IsolateCrashedError("echo", "hang", "no heartbeat"), "ISOLATE_HUNG"],
      [new IsolateCrashedError("echo", "out-of-memory", "heap"), "ISOLATE_OUT_OF_MEMORY"],
      [new NotCloneableError("echo", "the event", cause), "NOT_CLONEABLE"],
      [new RemoteError("echo", { name: "TypeError", message: "nope" }), "REMOTE_ERROR"],
    ];
    expect(errors.map(([, code]) => code).sort()).toEqual([...ISOLATE_ERROR_CODES].sort());
    for (const [error, code] of errors) {
      expect(error).toBeInstanceOf(IsolateError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.service).toBe("echo");
      // A remote error keeps the isolate's message as is, so replies read as they would in process (the kernel names the service).
      if (!(error instanceof RemoteError)) expect(error.message).toContain("echo");
    }
    expect(errors[1]?.[0].cause).toBe(cause);
    expect(new IsolateCrashedError("echo", "error", "x", { cause }).cause).toBe(cause);
    expect(new IsolateCrashedError("echo", "exit", "it exited with code 0", { normal: true }).normal).toBe(true);
    expect(new IsolateCrashedError("echo", "exit", "it exited with code 1").normal).toBe(false);
  });

  it("keeps the isolate's own message for a remote error", () => {
    const error = new RemoteError("echo", { name: "TypeError", message: "nope", stack: "s", code: "E_X" });
    expect(error.message).toBe("nope");
    expect(error.remoteName).toBe("TypeError");
    expect(error.remoteStack).toBe("s");
    expect(error.remoteCode).toBe("E_X");
  });
});
