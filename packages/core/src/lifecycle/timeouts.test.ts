import { describe, expect, it, vi } from "vitest";
import { Timeouts } from "./timeouts.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("Timeouts", () => {
  // On fake timers (performance included): with real ones a slow machine could
  // stretch the 5 ms pause past c's deadline and legitimately reorder c and d.
  it("fires each watch after its timeout, in order, unless cancelled", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const timeouts = new Timeouts();
      const fired: string[] = [];
      timeouts.watch(20, () => fired.push("a"));
      const b = timeouts.watch(20, () => fired.push("b"));
      timeouts.watch(40, () => fired.push("c"));
      vi.advanceTimersByTime(5);
      timeouts.watch(20, () => fired.push("d"));
      b.cancel();
      b.cancel();
      vi.advanceTimersByTime(19);
      expect(fired).toEqual(["a"]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual(["a", "d"]);
      vi.advanceTimersByTime(20);
      expect(fired).toEqual(["a", "d", "c"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("never fires early", async () => {
    const timeouts = new Timeouts();
    const started = performance.now();
    let at = 0;
    timeouts.watch(30, () => (at = performance.now()));
    await sleep(80);
    expect(at - started).toBeGreaterThanOrEqual(29);
  });

  it("arms one timer for many watches, and lets it lapse once every watch is cancelled", () => {
    vi.useFakeTimers();
    try {
      const timeouts = new Timeouts();
      const watches = Array.from({ length: 1000 }, () => timeouts.watch(60_000, () => {}));
      expect(vi.getTimerCount()).toBe(1);
      for (const w of watches) w.cancel();
      // Reused by the next watch of the same length instead of cleared and set again.
      timeouts.watch(60_000, () => {}).cancel();
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(60_000);
      expect(vi.getTimerCount()).toBe(0);
      const fired: number[] = [];
      timeouts.watch(100, () => fired.push(1));
      timeouts.watch(200, () => fired.push(2));
      expect(vi.getTimerCount()).toBe(2);
      vi.advanceTimersByTime(150);
      expect(fired).toEqual([1]);
      vi.advanceTimersByTime(100);
      expect(fired).toEqual([1, 2]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
