import fc from "fast-check";
import { expect, it } from "vitest";
import { StateError } from "../errors.ts";
import { INVALID_NAMES, VALID_EDGE_NAMES, isStorableJson, unsupportedCases } from "./cases.ts";
import { rejection, type SuiteContext } from "./suite.ts";

/** The contract as it stood before compare-and-set and fencing: round trips, names, values, limits, ordering. */
export function basics(context: SuiteContext): void {
  it("starts empty", async () => {
    const store = await context.open();
    expect(await store.load("echo")).toBeUndefined();
    expect(await store.exists("echo")).toBe(false);
    expect(await store.list()).toEqual([]);
  });

  it("round-trips state and version", async () => {
    const store = await context.open();
    const state = { count: 3, names: ["a", "ü", "😀"], nested: { ok: true, none: null }, big: 2 ** 60, tiny: 5e-324 };
    await store.save("echo", state, { version: "1.2.3" });
    const loaded = await store.load("echo");
    expect(loaded?.state).toStrictEqual(state);
    expect(loaded?.version).toBe("1.2.3");
    expect(await store.exists("echo")).toBe(true);
  });

  it("omits version when none was saved", async () => {
    const store = await context.open();
    await store.save("echo", 3);
    const loaded = await store.load("echo");
    expect(loaded?.state).toBe(3);
    expect(loaded !== undefined && "version" in loaded).toBe(false);
    await store.save("echo", 4, {});
    expect((await store.load("echo"))?.version).toBeUndefined();
  });

  it("stores every JSON primitive at the top level", async () => {
    const store = await context.open();
    for (const value of [null, true, false, 0, -1.5, "", "text", [], {}]) {
      await store.save("p", value);
      expect((await store.load("p"))?.state).toStrictEqual(value);
    }
  });

  it("keeps strings exactly, lone surrogates included", async () => {
    const store = await context.open();
    const state = { lone: "\ud800", pair: "\ud83d\ude00", nul: "a\0b", quote: '"\\', ctrl: "\u0001\u001f" };
    await store.save("s", state);
    expect((await store.load("s"))?.state).toStrictEqual(state);
  });

  it("last save wins", async () => {
    const store = await context.open();
    await store.save("echo", 1, { version: "1" });
    await store.save("echo", 2, { version: "2" });
    const loaded = await store.load("echo");
    expect(loaded?.state).toBe(2);
    expect(loaded?.version).toBe("2");
  });

  it("increases the generation on every save", async () => {
    const store = await context.open();
    const generations: number[] = [];
    for (let i = 0; i < 5; i++) {
      await store.save("g", i);
      generations.push((await store.load("g"))?.generation ?? -1);
    }
    for (let i = 1; i < generations.length; i++) expect(generations[i]).toBeGreaterThan(generations[i - 1] ?? 0);
  });

  it("keeps services apart", async () => {
    const store = await context.open();
    await store.save("a", { who: "a" });
    await store.save("b", { who: "b" });
    expect((await store.load("a"))?.state).toEqual({ who: "a" });
    expect((await store.load("b"))?.state).toEqual({ who: "b" });
  });

  it("snapshots the state when save is called", async () => {
    const store = await context.open();
    const state = { list: [1] };
    const saving = store.save("echo", state);
    state.list.push(2);
    await saving;
    expect((await store.load("echo"))?.state).toEqual({ list: [1] });
  });

  it("hands out copies: mutating a loaded state changes nothing stored", async () => {
    const store = await context.open();
    await store.save("echo", { list: [1] });
    const first = (await store.load("echo"))?.state as { list: number[] };
    first.list.push(99);
    expect((await store.load("echo"))?.state).toEqual({ list: [1] });
  });

  it("deletes, and deleting nothing is a no-op", async () => {
    const store = await context.open();
    await store.save("echo", 1);
    await store.delete("echo");
    expect(await store.exists("echo")).toBe(false);
    expect(await store.load("echo")).toBeUndefined();
    await store.delete("echo");
    await store.delete("never-saved");
    expect(await store.list()).toEqual([]);
  });

  it("lists names sorted", async () => {
    const store = await context.open();
    for (const name of ["b", "a", "C", "a.1", "z-9"]) await store.save(name, name);
    await store.delete("z-9");
    expect(await store.list()).toEqual(["C", "a", "a.1", "b"]);
  });

  it("accepts edge-case valid names", async () => {
    const store = await context.open();
    for (const name of VALID_EDGE_NAMES) {
      await store.save(name, { name });
      expect((await store.load(name))?.state).toEqual({ name });
    }
    expect(await store.list()).toEqual([...VALID_EDGE_NAMES].sort());
  });

  it("rejects invalid names on every method with INVALID_NAME", async () => {
    const store = await context.open();
    for (const name of INVALID_NAMES) {
      const n = name as string;
      for (const call of [() => store.save(n, 1), () => store.load(n), () => store.exists(n), () => store.delete(n)]) {
        // A rejected promise, never a synchronous throw.
        const promise = call();
        expect(promise).toBeInstanceOf(Promise);
        const error = await rejection(promise);
        expect(error.code).toBe("INVALID_NAME");
        expect(error.message).toMatch(/invalid service name .*: expected/);
      }
    }
    expect(await store.list()).toEqual([]);
  });

  it("rejects a non-string meta.version with INVALID_ARGUMENT", async () => {
    const store = await context.open();
    const error = await rejection(store.save("echo", 1, { version: 2 as unknown as string }));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(await store.exists("echo")).toBe(false);
  });

  it("refuses every value JSON would silently change, naming its path, and keeps the old state", async () => {
    const store = await context.open();
    await store.save("echo", { good: 1 });
    for (const c of unsupportedCases()) {
      const error = await rejection(store.save("echo", c.state));
      expect(error.code, c.label).toBe("STATE_ENCODE_FAILED");
      expect((error as StateError & { valuePath: string }).valuePath, c.label).toBe(c.path);
      expect(error.message, c.label).toMatch(c.message);
      expect(error.message, c.label).toContain(`state of "echo": ${c.path}: `);
    }
    expect((await store.load("echo"))?.state).toEqual({ good: 1 });
  });

  it("accepts shared (non-cyclic) references, stored as copies", async () => {
    const store = await context.open();
    const shared = { n: 1 };
    await store.save("dag", { a: shared, b: shared });
    expect((await store.load("dag"))?.state).toEqual({ a: { n: 1 }, b: { n: 1 } });
  });

  it("honours maxDepth", async () => {
    const store = await context.open({ maxDepth: 3 });
    await store.save("d", [[["ok"]]]);
    const error = await rejection(store.save("d", [[[["too deep"]]]]));
    expect(error.code).toBe("STATE_ENCODE_FAILED");
  });

  it("refuses a state over maxBytes with STATE_TOO_LARGE and keeps the old one", async () => {
    const store = await context.open({ maxBytes: 4096 });
    await store.save("big", "small");
    const error = await rejection(store.save("big", "x".repeat(5000)));
    expect(error.code).toBe("STATE_TOO_LARGE");
    expect((await store.load("big"))?.state).toBe("small");
  });

  it("serializes concurrent saves: the last call wins", async () => {
    const store = await context.open();
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.save("race", { i }, { version: String(i) })));
    const loaded = await store.load("race");
    expect(loaded?.state).toEqual({ i: 39 });
    expect(loaded?.version).toBe("39");
  });

  it("never lets a load see a half-done save", async () => {
    const store = await context.open();
    const payload = (i: number) => ({ i, data: String(i).repeat(2000) });
    await store.save("mix", payload(0));
    const ops: Promise<unknown>[] = [];
    const seen: unknown[] = [];
    for (let i = 1; i <= 20; i++) {
      ops.push(store.save("mix", payload(i)));
      ops.push(store.load("mix").then((loaded) => seen.push(loaded?.state)));
    }
    await Promise.all(ops);
    // Operations on one name run in call order, so each load sees the save just before it.
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => payload(i + 1)));
  });

  it("property: JSON values round-trip exactly", async () => {
    const store = await context.open();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }).filter(isStorableJson), async (value) => {
        await store.save("prop", value);
        expect((await store.load("prop"))?.state).toStrictEqual(value);
      }),
      { numRuns: 60 },
    );
  });

  it("property: any value either round-trips exactly or is refused with STATE_ENCODE_FAILED", async () => {
    const store = await context.open();
    await fc.assert(
      fc.asyncProperty(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: false,
          withTypedArray: true,
          withSparseArray: true,
          withBoxedValues: true,
          maxDepth: 4,
        }),
        async (value) => {
          let stored = true;
          try {
            await store.save("any", value);
          } catch (error) {
            stored = false;
            expect(error).toBeInstanceOf(StateError);
            expect((error as StateError).code).toBe("STATE_ENCODE_FAILED");
          }
          if (stored) expect((await store.load("any"))?.state).toStrictEqual(value);
        },
      ),
      { numRuns: 80 },
    );
  });

  it("property: unsupported leaves anywhere are refused", async () => {
    const store = await context.open();
    const bad = fc.oneof(
      fc.date().map((d) => d as unknown),
      fc.bigInt().map((b) => b as unknown),
      fc.constant(undefined),
      fc.constant(Number.NaN),
      fc.constant(-0),
      fc.constant(new Map()),
      fc.constant(new Set()),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 3 }),
        bad,
        fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        async (base, leaf, keys) => {
          // Plant the leaf under a chain of keys.
          let state: unknown = leaf;
          for (const key of keys) state = key === "__proto__" ? [state, base] : { [key]: state, other: base };
          const error = await rejection(store.save("bad", state));
          expect(error.code).toBe("STATE_ENCODE_FAILED");
        },
      ),
      { numRuns: 60 },
    );
  });
}
