import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  StateConflictError,
  StateEncodeError,
  StateError,
  type StateErrorCode,
  StateFencedError,
  StateLockedError,
} from "./errors.ts";

// The catalogue: every code @mk/state can produce. A new code, a rename or a removal
// fails here (and in the type check below) and must be a deliberate, documented change.
const CATALOGUE = [
  "INVALID_NAME",
  "INVALID_ARGUMENT",
  "STATE_ENCODE_FAILED",
  "STATE_TOO_LARGE",
  "NOT_A_FILE",
  "STATE_UNKNOWN_FORMAT",
  "STATE_DECRYPT_FAILED",
  "STATE_ENCRYPT_FAILED",
  "STATE_CORRUPT",
  "STATE_UNSUPPORTED_VERSION",
  "ROLLBACK",
  "UNSAFE_DIR",
  "STATE_IO",
  "STATE_CONFLICT",
  "STATE_FENCED",
  "STATE_LOCKED",
  "STATE_CLOSED",
] as const;

const here = dirname(fileURLToPath(import.meta.url));

/** Every non-test source file of the package, as text. */
function sources(dir = here): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [readFileSync(path, "utf8")] : [];
  });
}

describe("the @mk/state error catalogue", () => {
  it("lists exactly the StateErrorCode union", () => {
    expectTypeOf<(typeof CATALOGUE)[number]>().toEqualTypeOf<StateErrorCode>();
    expect(new Set(CATALOGUE).size).toBe(CATALOGUE.length);
  });

  it("gives each subclass its code and name, all of them StateErrors", () => {
    const made: [StateError, StateErrorCode, string][] = [
      [new StateError("STATE_IO", "x"), "STATE_IO", "StateError"],
      [new StateEncodeError("state.a", "Date is not supported", "echo"), "STATE_ENCODE_FAILED", "StateEncodeError"],
      [new StateConflictError("echo", 3, 5), "STATE_CONFLICT", "StateConflictError"],
      [new StateFencedError("echo", 1, 2), "STATE_FENCED", "StateFencedError"],
      [new StateLockedError("/tmp/state", 42), "STATE_LOCKED", "StateLockedError"],
    ];
    for (const [error, code, name] of made) {
      expect(error).toBeInstanceOf(StateError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
    }
  });

  it("messages say what was expected and what came, and name the service or the directory", () => {
    expect(new StateConflictError("echo", 3, 5).message).toBe(
      'save of "echo" refused: expected stored generation 3, but the stored generation is 5',
    );
    expect(new StateConflictError("echo", 0, 5).message).toMatch(/expected nothing stored \(ifGeneration 0\)/);
    expect(new StateConflictError("echo", 3, 0).message).toMatch(/but nothing is stored/);
    expect(new StateFencedError("echo", 1, 2).message).toMatch(/"echo".*epoch 1 is stale, epoch 2 was already stored/);
    expect(new StateLockedError("/tmp/state", 42).message).toMatch(/\/tmp\/state is locked by process 42/);
    expect(new StateConflictError("echo", 3, 5).service).toBe("echo");
    expect(new StateLockedError("/tmp/state", 42).path).toBe("/tmp/state");
  });

  it("passes the cause on", () => {
    const cause = new Error("EIO");
    expect(new StateError("STATE_IO", "x", { cause }).cause).toBe(cause);
    expect(new StateEncodeError("state", "threw", "echo", cause).cause).toBe(cause);
    expect(new StateError("STATE_IO", "x").cause).toBeUndefined();
  });

  it("every code is produced somewhere in the sources", () => {
    const text = sources().join("\n");
    for (const code of CATALOGUE) {
      // Subclasses set their code in their own constructor, so the literal appears there too.
      expect(text.includes(`"${code}"`) && text.split(`"${code}"`).length > 2, code).toBe(true);
    }
  });

  it("the README's error table lists exactly the catalogue", () => {
    const readme = readFileSync(join(here, "..", "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Errors"));
    const listed = [...table.matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((m) => m[1]);
    expect([...listed].sort((a, b) => (a ?? "").localeCompare(b ?? ""))).toEqual(
      [...CATALOGUE].sort((a, b) => a.localeCompare(b)),
    );
  });

  it("regression: one code for a bad argument, INVALID_ARGUMENT as in every mk package, never BAD_INPUT (issue 14)", () => {
    expect(CATALOGUE).not.toContain("BAD_INPUT");
    expect(sources().join("\n")).not.toContain("BAD_INPUT");
  });
});
