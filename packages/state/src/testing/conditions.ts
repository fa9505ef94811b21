import { expect, it } from "vitest";
import { StateConflictError, StateError, StateFencedError } from "../errors.ts";
import type { StateStore } from "../state-store.ts";
import { rejection, type SuiteContext } from "./suite.ts";

async function generationOf(store: StateStore, name: string): Promise<number> {
  const loaded = await store.load(name);
  if (loaded === undefined) return 0;
  expect(typeof loaded.generation).toBe("number");
  return loaded.generation ?? -1;
}

/** Compare-and-set on the stored generation (`meta.ifGeneration`). */
export function compareAndSet(context: SuiteContext): void {
  it("load returns the generation (a positive integer) and the epoch (0 when no save carried one)", async () => {
    const store = await context.open();
    await store.save("echo", 1);
    const loaded = await store.load("echo");
    expect(Number.isSafeInteger(loaded?.generation) && (loaded?.generation ?? 0) > 0).toBe(true);
    expect(loaded?.epoch).toBe(0);
  });

  it("ifGeneration 0 saves only when nothing is stored", async () => {
    const store = await context.open();
    await store.save("echo", { first: true }, { ifGeneration: 0 });
    const stored = await generationOf(store, "echo");
    const error = await rejection(store.save("echo", { second: true }, { ifGeneration: 0 }));
    expect(error).toBeInstanceOf(StateConflictError);
    expect(error.code).toBe("STATE_CONFLICT");
    expect(error.service).toBe("echo");
    expect(error.message).toContain(`the stored generation is ${stored}`);
    expect((error as StateConflictError).storedGeneration).toBe(stored);
    expect((error as StateConflictError).expectedGeneration).toBe(0);
    expect((await store.load("echo"))?.state).toEqual({ first: true });
  });

  it("saves when ifGeneration is the stored generation, and refuses a stale one naming the stored generation", async () => {
    const store = await context.open();
    await store.save("echo", 1);
    const first = await generationOf(store, "echo");
    await store.save("echo", 2, { ifGeneration: first, version: "2" });
    const second = await generationOf(store, "echo");
    expect(second).toBeGreaterThan(first);
    const error = await rejection(store.save("echo", 3, { ifGeneration: first }));
    expect(error.code).toBe("STATE_CONFLICT");
    expect(error.message).toMatch(
      new RegExp(`expected stored generation ${first}, but the stored generation is ${second}`),
    );
    expect((error as StateConflictError).storedGeneration).toBe(second);
    const loaded = await store.load("echo");
    expect(loaded?.state).toBe(2);
    expect(loaded?.version).toBe("2");
    expect(loaded?.generation).toBe(second);
  });

  it("refuses a non-zero ifGeneration when nothing is stored, saying so", async () => {
    const store = await context.open();
    const error = await rejection(store.save("echo", 1, { ifGeneration: 5 }));
    expect(error.code).toBe("STATE_CONFLICT");
    expect(error.message).toMatch(/nothing is stored/);
    expect((error as StateConflictError).storedGeneration).toBe(0);
    expect(await store.exists("echo")).toBe(false);
  });

  it("after delete, ifGeneration 0 succeeds again", async () => {
    const store = await context.open();
    await store.save("echo", 1, { ifGeneration: 0 });
    await store.delete("echo");
    await store.save("echo", 2, { ifGeneration: 0 });
    expect((await store.load("echo"))?.state).toBe(2);
  });

  it("refuses a bad ifGeneration or epoch with INVALID_ARGUMENT and writes nothing", async () => {
    const store = await context.open();
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "3", null, 3n, {}]) {
      for (const key of ["ifGeneration", "epoch"]) {
        const error = await rejection(store.save("echo", 1, { [key]: bad } as never));
        expect(error.code, `${key}: ${typeof bad}`).toBe("INVALID_ARGUMENT");
        expect(error.message).toContain(`meta.${key}`);
      }
    }
    expect(await store.exists("echo")).toBe(false);
  });
}

/** Fencing tokens (`meta.epoch`). */
export function fencing(context: SuiteContext): void {
  it("keeps the highest epoch, refuses a lower one with STATE_FENCED naming both, accepts an equal one", async () => {
    const store = await context.open();
    await store.save("echo", "owner-5", { epoch: 5 });
    expect((await store.load("echo"))?.epoch).toBe(5);
    const error = await rejection(store.save("echo", "zombie-4", { epoch: 4 }));
    expect(error).toBeInstanceOf(StateFencedError);
    expect(error.code).toBe("STATE_FENCED");
    expect(error.service).toBe("echo");
    expect(error.message).toMatch(/epoch 4 is stale, epoch 5 was already stored/);
    expect((error as StateFencedError).epoch).toBe(4);
    expect((error as StateFencedError).storedEpoch).toBe(5);
    expect((await store.load("echo"))?.state).toBe("owner-5");
    await store.save("echo", "owner-5-again", { epoch: 5 });
    await store.save("echo", "owner-7", { epoch: 7 });
    expect(await store.load("echo")).toMatchObject({ state: "owner-7", epoch: 7 });
  });

  it("a save without an epoch is not fenced and keeps the stored epoch", async () => {
    const store = await context.open();
    await store.save("echo", 1, { epoch: 3 });
    await store.save("echo", 2);
    expect(await store.load("echo")).toMatchObject({ state: 2, epoch: 3 });
    expect((await rejection(store.save("echo", 3, { epoch: 2 }))).code).toBe("STATE_FENCED");
  });

  it("checks the epoch before the generation, and a refused save raises nothing", async () => {
    const store = await context.open();
    await store.save("echo", 1, { epoch: 7 });
    const generation = await generationOf(store, "echo");
    // Stale on both counts: the fence is what the caller must hear.
    expect((await rejection(store.save("echo", 2, { epoch: 6, ifGeneration: generation + 1000 }))).code).toBe(
      "STATE_FENCED",
    );
    // A conflict with a higher epoch does not store that epoch.
    expect((await rejection(store.save("echo", 2, { epoch: 9, ifGeneration: generation + 1000 }))).code).toBe(
      "STATE_CONFLICT",
    );
    await store.save("echo", 3, { epoch: 8, ifGeneration: generation });
    expect(await store.load("echo")).toMatchObject({ state: 3, epoch: 8 });
  });

  it("epochs are per service", async () => {
    const store = await context.open();
    await store.save("a", 1, { epoch: 10 });
    await store.save("b", 1, { epoch: 1 });
    expect((await store.load("b"))?.epoch).toBe(1);
  });

  it("an owner that lost its service to a higher epoch is refused from then on", async () => {
    const old = await context.open();
    const next = await context.open();
    await old.save("svc", { owner: "old", n: 0 }, { epoch: 1 });
    let n = 0;
    const oldLoop = (async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < 30; i++) {
        try {
          await old.save("svc", { owner: "old", n: ++n }, { epoch: 1 });
          outcomes.push("saved");
        } catch (error) {
          expect(error).toBeInstanceOf(StateError);
          expect((error as StateError).code).toBe("STATE_FENCED");
          outcomes.push("fenced");
        }
      }
      return outcomes;
    })();
    await next.save("svc", { owner: "next" }, { epoch: 2 });
    const outcomes = await oldLoop;
    // Once fenced, always fenced: no old save lands after the new owner's.
    expect(outcomes.slice(outcomes.indexOf("fenced")).every((o) => o === "fenced")).toBe(true);
    expect(await old.load("svc")).toMatchObject({ state: { owner: "next" }, epoch: 2 });
    expect((await rejection(old.save("svc", { owner: "old" }, { epoch: 1 }))).code).toBe("STATE_FENCED");
  });
}

/** Two store instances on the same backing data, as two processes or nodes. */
export function concurrency(context: SuiteContext): void {
  it("two instances racing compare-and-set on one generation: exactly one wins, the other gets STATE_CONFLICT", async () => {
    const a = await context.open();
    const b = await context.open();
    await a.save("race", { round: -1 });
    for (let round = 0; round < 20; round++) {
      const [ga, gb] = await Promise.all([generationOf(a, "race"), generationOf(b, "race")]);
      expect(ga).toBe(gb);
      const results = await Promise.allSettled([
        a.save("race", { round, by: "a" }, { ifGeneration: ga }),
        b.save("race", { round, by: "b" }, { ifGeneration: gb }),
      ]);
      const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i === 0 ? "a" : "b"] : []));
      expect(won, `round ${round}`).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected");
      const reason: unknown = lost?.reason;
      expect(reason).toBeInstanceOf(StateConflictError);
      const loaded = await b.load("race");
      expect(loaded?.state).toEqual({ round, by: won[0] });
      expect(reason instanceof StateConflictError ? reason.storedGeneration : -1).toBe(loaded?.generation);
    }
  });

  it("increments with compare-and-set retries from two instances: none is lost", async () => {
    const stores = [await context.open(), await context.open()];
    const WORKERS_PER_STORE = 3;
    const INCREMENTS = 5;
    let conflicts = 0;
    const worker = async (store: StateStore): Promise<void> => {
      for (let done = 0; done < INCREMENTS;) {
        // Bounded: under contention each round lets at least one writer through.
        for (let attempt = 0; ; attempt++) {
          if (attempt > 500) throw new Error("no progress after 500 attempts");
          const loaded = await store.load("counter");
          const count = (loaded?.state as number | undefined) ?? 0;
          try {
            await store.save("counter", count + 1, { ifGeneration: loaded?.generation ?? 0 });
            done++;
            break;
          } catch (error) {
            expect(error).toBeInstanceOf(StateConflictError);
            conflicts++;
          }
        }
      }
    };
    await Promise.all(stores.flatMap((store) => Array.from({ length: WORKERS_PER_STORE }, () => worker(store))));
    expect((await stores[0]?.load("counter"))?.state).toBe(2 * WORKERS_PER_STORE * INCREMENTS);
    expect(conflicts).toBeGreaterThan(0);
  });

  it("what one instance saves, the other loads, lists and deletes", async () => {
    const a = await context.open();
    const b = await context.open();
    await a.save("x", { from: "a" }, { version: "1" });
    expect(await b.load("x")).toMatchObject({ state: { from: "a" }, version: "1" });
    expect(await b.list()).toEqual(["x"]);
    const generation = await generationOf(b, "x");
    await b.save("x", { from: "b" }, { ifGeneration: generation });
    expect((await rejection(a.save("x", { from: "a" }, { ifGeneration: generation }))).code).toBe("STATE_CONFLICT");
    await b.delete("x");
    expect(await a.exists("x")).toBe(false);
    await a.save("x", { again: true }, { ifGeneration: 0 });
    expect((await b.load("x"))?.state).toEqual({ again: true });
  });
}
