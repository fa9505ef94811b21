import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.ts";

describe("backoffDelay", () => {
  it("doubles per attempt up to the cap, jittered within [half, full]", () => {
    expect(backoffDelay(1, 100, 5000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 5000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 5000, () => 1)).toBe(400);
    expect(backoffDelay(30, 100, 5000, () => 1)).toBe(5000);
  });

  it("stays within [ceiling/2, ceiling] for any attempt and random value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, initialMs, extra, r) => {
          const maxMs = initialMs + extra;
          const delay = backoffDelay(attempt, initialMs, maxMs, () => r);
          const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
          return delay >= Math.floor(ceiling / 2) && delay <= Math.ceil(ceiling) && Number.isFinite(delay);
        },
      ),
    );
  });
});
