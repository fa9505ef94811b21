import { describe, expect, it } from "vitest";
import { MemoryStateStore, StateError } from "@mk/state";
import { MemoryStateStore as FromSubpath } from "@mk/state/memory";
import { describeStateStore } from "@mk/state/testing";

describeStateStore("MemoryStateStore", () => {
  // Every instance of one test shares the first one's states, as two processes share a database.
  let first: MemoryStateStore | undefined;
  return {
    open: (limits) => {
      const store = new MemoryStateStore(first === undefined ? limits : { ...limits, sharedWith: first });
      first ??= store;
      return store;
    },
  };
});

describe("MemoryStateStore", () => {
  it("is exported from the memory subpath too", () => {
    expect(FromSubpath).toBe(MemoryStateStore);
  });

  it("refuses bad options", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "10"]) {
      expect(() => new MemoryStateStore({ maxBytes: bad as number })).toThrow(StateError);
      expect(() => new MemoryStateStore({ maxDepth: bad as number })).toThrow(/positive integer/);
    }
    for (const bad of [{}, "x", new Map()]) {
      expect(() => new MemoryStateStore({ sharedWith: bad as MemoryStateStore })).toThrow(/sharedWith/);
    }
  });

  it("instances made without sharedWith are independent", async () => {
    const a = new MemoryStateStore();
    const b = new MemoryStateStore();
    await a.save("echo", 1);
    expect(await b.exists("echo")).toBe(false);
  });
});
