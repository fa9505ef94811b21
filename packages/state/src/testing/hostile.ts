import { expect, it } from "vitest";
import { StateError } from "../errors.ts";
import { rejection, type SuiteContext } from "./suite.ts";

/** An Error whose `message` and `toString` throw: printing it is itself hostile. */
function unprintableError(): Error {
  const error = new Error("hidden");
  Object.defineProperty(error, "message", {
    get() {
      throw new Error("message getter threw");
    },
  });
  Object.defineProperty(error, "toString", {
    value() {
      throw new Error("toString threw");
    },
  });
  return error;
}

/** Values whose every conversion to text throws. */
function unprintables(): unknown[] {
  const nullProto = Object.create(null) as object;
  const throwingPrimitive = {
    [Symbol.toPrimitive]() {
      throw new Error("toPrimitive threw");
    },
  };
  const trap = (): never => {
    throw new Error("proxy trap threw");
  };
  const proxy = new Proxy({}, { get: trap, has: trap, ownKeys: trap, getPrototypeOf: trap });
  return [nullProto, throwingPrimitive, proxy, unprintableError()];
}

/** States that throw while being read, with the path the error must name. */
function throwingStates(): { label: string; state: unknown; path: RegExp }[] {
  const cases: { label: string; state: unknown; path: RegExp }[] = [];
  for (const [i, thrown] of unprintables().entries()) {
    const getter = {};
    Object.defineProperty(getter, "bad", {
      enumerable: true,
      get() {
        throw thrown;
      },
    });
    cases.push({
      label: `getter throwing unprintable #${i}`,
      state: { ok: 1, nested: getter },
      path: /state\.nested\.bad/,
    });
  }
  const trap = (): never => {
    throw unprintableError();
  };
  cases.push({ label: "proxy whose ownKeys throws", state: { p: new Proxy({}, { ownKeys: trap }) }, path: /state/ });
  cases.push({
    label: "proxy whose getPrototypeOf throws",
    state: [new Proxy({}, { getPrototypeOf: trap })],
    path: /state/,
  });
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  cases.push({ label: "revoked proxy", state: { r: revocable.proxy }, path: /state/ });
  return cases;
}

/** Hostile names, states, metas: every one a typed rejection, nothing stored, nothing lost. */
export function hostile(context: SuiteContext): void {
  // Regression: a getter throwing an unprintable value (String() of it throws) lost the
  // path: the report said "state: inspecting the state threw: Cannot convert object to primitive value".
  it("refuses states whose getters or proxy traps throw (even unprintable values), naming the path, old state kept", async () => {
    const store = await context.open();
    await store.save("echo", { good: 1 });
    for (const c of throwingStates()) {
      const promise = store.save("echo", c.state);
      expect(promise, c.label).toBeInstanceOf(Promise);
      const error = await rejection(promise);
      expect(error.code, c.label).toBe("STATE_ENCODE_FAILED");
      expect(error.message, c.label).toMatch(c.path);
      expect(typeof error.message).toBe("string");
    }
    expect((await store.load("echo"))?.state).toEqual({ good: 1 });
  });

  it("refuses names that throw when printed with INVALID_NAME, on every method", async () => {
    const store = await context.open();
    for (const name of unprintables()) {
      for (const call of [
        () => store.save(name as string, 1),
        () => store.load(name as string),
        () => store.exists(name as string),
        () => store.delete(name as string),
      ]) {
        const promise = call();
        expect(promise).toBeInstanceOf(Promise);
        expect((await rejection(promise)).code).toBe("INVALID_NAME");
      }
    }
    expect(await store.list()).toEqual([]);
  });

  it("refuses a meta that is not an object, or whose fields throw, with INVALID_ARGUMENT", async () => {
    const store = await context.open();
    const throwingMeta = {};
    Object.defineProperty(throwingMeta, "ifGeneration", {
      enumerable: true,
      get() {
        throw unprintableError();
      },
    });
    const trap = (): never => {
      throw unprintableError();
    };
    for (const meta of ["1.0.0", 5, null, true, throwingMeta, new Proxy({}, { get: trap, has: trap })]) {
      const error = await rejection(store.save("echo", 1, meta as never));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain('"echo"');
    }
    expect(await store.exists("echo")).toBe(false);
  });

  it("refuses cycles through arrays and objects at any depth", async () => {
    const store = await context.open();
    const a: unknown[] = [];
    const b = { list: [{ deep: a }] };
    a.push(b);
    const error = await rejection(store.save("cycle", { root: a }));
    expect(error.code).toBe("STATE_ENCODE_FAILED");
    expect(error.message).toMatch(/cycle/);
    expect(await store.exists("cycle")).toBe(false);
  });

  it("round-trips a large state (1 MiB string, 20,000 keys) exactly", async () => {
    const store = await context.open();
    const keys = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]));
    const state = { big: "é😀x".repeat(262_144 / 2), keys };
    await store.save("big", state);
    expect((await store.load("big"))?.state).toStrictEqual(state);
  });

  it("refuses nesting 100,000 deep without overflowing the stack", async () => {
    const store = await context.open();
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const error = await rejection(store.save("deep", deep));
    expect(error.code).toBe("STATE_ENCODE_FAILED");
    expect(error.message).toMatch(/deeper than/);
  });

  it("refuses a state over the size cap, whatever its shape, and keeps the old one", async () => {
    const store = await context.open({ maxBytes: 64 * 1024 });
    await store.save("cap", "small");
    for (const state of ["x".repeat(70_000), Array.from({ length: 20_000 }, (_, i) => i), { s: "😀".repeat(20_000) }]) {
      expect((await rejection(store.save("cap", state))).code).toBe("STATE_TOO_LARGE");
    }
    expect((await store.load("cap"))?.state).toBe("small");
  });

  it("every error is a StateError with a string message, never a raw throw", async () => {
    const store = await context.open();
    const calls: (() => Promise<unknown>)[] = [
      () => store.save("", 1),
      () => store.save("echo", () => 1),
      () => store.save("echo", 1, { version: unprintableError() as never }),
      () => store.load({} as never),
    ];
    for (const call of calls) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(StateError);
      expect(typeof error.message).toBe("string");
    }
  });
}
