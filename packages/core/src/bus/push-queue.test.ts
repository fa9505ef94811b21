import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PushQueue } from "./push-queue.ts";

describe("PushQueue", () => {
  it("is first in, first out, and empty gives undefined", () => {
    const queue = new PushQueue<number>();
    expect(queue.shift()).toBeUndefined();
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(queue.length).toBe(5);
    expect([queue.shift(), queue.shift()]).toEqual([0, 1]);
    expect(queue.length).toBe(3);
  });

  it("keeps order while it grows past its capacity with the head wrapped around", () => {
    const queue = new PushQueue<number>(16);
    for (let i = 0; i < 10; i++) queue.push(i);
    for (let i = 0; i < 8; i++) queue.shift();
    // The head is at 8 of 16: the next pushes wrap, then force a doubling.
    for (let i = 10; i < 60; i++) queue.push(i);
    const seen: number[] = [];
    queue.forEach((n) => seen.push(n));
    expect(seen).toEqual(Array.from({ length: 52 }, (_, i) => i + 8));
    const out: number[] = [];
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) out.push(n);
    expect(out).toEqual(seen);
    expect(queue.length).toBe(0);
  });

  it("behaves as an array used as a queue, for any mix of pushes and shifts (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 400 }), (ops) => {
        const queue = new PushQueue<number>(16);
        const model: number[] = [];
        for (const op of ops) {
          if (op === null) expect(queue.shift()).toBe(model.shift());
          else {
            queue.push(op);
            model.push(op);
          }
          expect(queue.length).toBe(model.length);
        }
        const seen: number[] = [];
        queue.forEach((n) => seen.push(n));
        expect(seen).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });
});
