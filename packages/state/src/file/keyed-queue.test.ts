import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyedQueue } from "./keyed-queue.ts";

describe("KeyedQueue", () => {
  it("runs tasks of one key one at a time in call order, whatever their timing (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom("a", "b"), delay: fc.nat(3), fails: fc.boolean() }), {
          maxLength: 12,
        }),
        async (tasks) => {
          const queue = new KeyedQueue();
          const running = new Map<string, number>();
          const order: number[] = [];
          const settled = tasks.map((task, index) =>
            queue.run(task.key, async () => {
              running.set(task.key, (running.get(task.key) ?? 0) + 1);
              expect(running.get(task.key)).toBe(1);
              await new Promise((resolve) => setTimeout(resolve, task.delay));
              order.push(index);
              running.set(task.key, (running.get(task.key) ?? 0) - 1);
              if (task.fails) throw new Error(`task ${index}`);
              return index;
            }),
          );
          const results = await Promise.allSettled(settled);
          for (const key of ["a", "b"]) {
            const mine = tasks.flatMap((task, index) => (task.key === key ? [index] : []));
            expect(order.filter((index) => mine.includes(index))).toEqual(mine);
          }
          results.forEach((result, index) => {
            expect(result.status).toBe(tasks[index]?.fails === true ? "rejected" : "fulfilled");
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a task that throws before its first await is a rejection, and the next task of the key still runs", async () => {
    const queue = new KeyedQueue();
    const first = queue.run("k", () => {
      throw new Error("sync throw");
    });
    const second = queue.run("k", async () => "ran");
    await expect(first).rejects.toThrow("sync throw");
    await expect(second).resolves.toBe("ran");
  });

  it("regression (a thrown value whose toString throws escaped run() synchronously): the rejection is the value as is", async () => {
    const queue = new KeyedQueue();
    const hostile = {
      toString(): string {
        throw new Error("toString throws");
      },
    };
    const first = queue.run("k", () => {
      throw hostile;
    });
    await expect(first).rejects.toBe(hostile);
    await expect(queue.run("k", async () => "next")).resolves.toBe("next");
  });
});
