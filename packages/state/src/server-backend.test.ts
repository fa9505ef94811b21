import { describe, expect, it } from "vitest";
import { StateError } from "./errors.ts";
import {
  checkCrypterOption,
  DeadlineError,
  loadedState,
  OperationTracker,
  positiveIntegerOption,
  prepareSave,
  withDeadline,
  type BackendErrorFactory,
} from "./server-backend.ts";

class OwnError extends StateError {
  override name = "OwnError";
}
const own: BackendErrorFactory = (code, message, options) => new OwnError(code, message, options);

describe("server-backend helpers (shared by @mk/store-postgres and @mk/store-nats)", () => {
  it("positiveIntegerOption: fallback, the value, or the backend's own INVALID_ARGUMENT", () => {
    expect(positiveIntegerOption(undefined, "timeoutMs", 7, own)).toBe(7);
    expect(positiveIntegerOption(3, "timeoutMs", 7, own)).toBe(3);
    for (const bad of [0, -1, 1.5, "3", null, Number.NaN]) {
      expect(() => positiveIntegerOption(bad, "timeoutMs", 7, own)).toThrow(OwnError);
    }
    expect(() => positiveIntegerOption("3", "timeoutMs", 7, own)).toThrow(
      "option timeoutMs: expected a positive integer, got string",
    );
  });

  it("checkCrypterOption: an object with encrypt() and decrypt(), else INVALID_ARGUMENT", () => {
    const crypter = { encrypt: () => Promise.resolve(new Uint8Array()), decrypt: () => Promise.resolve("") };
    expect(checkCrypterOption(crypter, own)).toBe(crypter);
    for (const bad of [undefined, null, 1, {}, { encrypt: () => 1 }]) {
      expect(() => checkCrypterOption(bad, own)).toThrow(OwnError);
    }
  });

  it("prepareSave: checks name and meta, encodes, and refuses over maxBytes with the backend's error", () => {
    const limits = { maxBytes: 64, maxDepth: 8 };
    const { checked, stateJson } = prepareSave("echo", { a: 1 }, { version: "1", ifGeneration: 0 }, limits, own);
    expect(checked).toEqual({ version: "1", ifGeneration: 0, epoch: undefined });
    expect(JSON.parse(stateJson)).toEqual({ a: 1 });
    expect(() => prepareSave("bad name!", {}, undefined, limits, own)).toThrow(
      expect.objectContaining({ code: "INVALID_NAME" }),
    );
    expect(() => prepareSave("echo", {}, { epoch: -1 }, limits, own)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    let tooLarge: unknown;
    try {
      prepareSave("echo", { text: "x".repeat(100) }, undefined, limits, own);
    } catch (error) {
      tooLarge = error;
    }
    expect(tooLarge).toBeInstanceOf(OwnError);
    expect(tooLarge).toMatchObject({ code: "STATE_TOO_LARGE", service: "echo" });
  });

  it("loadedState: version and needsRewrap only when set", () => {
    expect(loadedState({ state: 1, version: undefined, needsRewrap: false }, 2, 3)).toEqual({
      state: 1,
      generation: 2,
      epoch: 3,
    });
    const full = loadedState({ state: 1, version: "v", needsRewrap: true }, 2, 3);
    expect(full).toEqual({ state: 1, generation: 2, epoch: 3, version: "v", needsRewrap: true });
  });

  it("OperationTracker: close waits for started operations, runs finish once, then refuses new ones", async () => {
    const tracker = new OperationTracker(() => new OwnError("STATE_CLOSED", "closed"));
    let release: () => void = () => {};
    const started = tracker.run(() => new Promise<string>((resolve) => (release = () => resolve("done"))));
    await expect(
      tracker.run(() => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    let finished = 0;
    const closing = tracker.close(() => {
      finished += 1;
    });
    expect(tracker.closing).toBe(true);
    expect(
      tracker.close(() => {
        finished += 1;
      }),
    ).toBe(closing);
    await expect(tracker.run(() => 1)).rejects.toMatchObject({ code: "STATE_CLOSED" });
    expect(finished).toBe(0);
    release();
    await expect(started).resolves.toBe("done");
    await closing;
    expect(finished).toBe(1);
  });

  it("withDeadline: the result in time, a DeadlineError past it, and a late result goes to onLate", async () => {
    await expect(withDeadline(Promise.resolve(1), 1_000)).resolves.toBe(1);
    await expect(withDeadline(Promise.reject(new Error("no")), 1_000)).rejects.toThrow("no");
    let late: (value: number) => void = () => {};
    const handed: number[] = [];
    const waiting = withDeadline(new Promise<number>((resolve) => (late = resolve)), 5, (value) => handed.push(value));
    await expect(waiting).rejects.toBeInstanceOf(DeadlineError);
    late(9);
    await Promise.resolve();
    await Promise.resolve();
    expect(handed).toEqual([9]);
  });
});
