import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Drains } from "./drains.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Whether the promise has settled, after the microtasks queued so far have run. */
async function settled<T>(promise: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let state: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => (state = { done: true, value }));
  await vi.advanceTimersByTimeAsync(0);
  return state;
}

describe("Drains", () => {
  it("resolves true at once when nothing is in flight, and is inactive", async () => {
    const drains = new Drains();
    expect(await drains.wait("a", 100, () => 0)).toBe(true);
    expect(drains.active).toBe(false);
  });

  it("resolves true when the last call in flight leaves, for every waiter", async () => {
    const drains = new Drains();
    const first = drains.wait("a", 1000, () => 2);
    const second = drains.wait("a", 1000, () => 99);
    expect(drains.active).toBe(true);
    drains.enter("a");
    drains.leave("a");
    drains.leave("a");
    expect((await settled(first)).done).toBe(false);
    drains.leave("a");
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(drains.active).toBe(false);
  });

  it("resolves false at its deadline and forgets the name once nobody waits", async () => {
    const drains = new Drains();
    const waiting = drains.wait("a", 50, () => 1);
    await vi.advanceTimersByTimeAsync(49);
    expect((await settled(waiting)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await waiting).toBe(false);
    expect(drains.active).toBe(false);
  });

  it("issue 13 #2: a deadline of 0 means none: it waits for as long as the calls take", async () => {
    const drains = new Drains();
    const waiting = drains.wait("a", 0, () => 1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await settled(waiting)).done).toBe(false);
    drains.leave("a");
    expect(await waiting).toBe(true);
  });

  it("keeps names apart, and settleAll answers every waiter", async () => {
    const drains = new Drains();
    const a = drains.wait("a", 0, () => 1);
    const b = drains.wait("b", 0, () => 1);
    drains.leave("a");
    expect(await a).toBe(true);
    expect((await settled(b)).done).toBe(false);
    drains.settleAll(true);
    expect(await b).toBe(true);
    expect(drains.active).toBe(false);
  });
});
