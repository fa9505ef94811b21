import { describe, expect, it } from "vitest";
import { KeyedMutex } from "./keyed-mutex.ts";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("KeyedMutex", () => {
  it("runs work for one key one at a time, in arrival order, whatever each outcome", async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const job =
      (id: string, fail = false) =>
      async () => {
        log.push(`start ${id}`);
        await tick();
        log.push(`end ${id}`);
        if (fail) throw new Error(id);
        return id;
      };
    const results = await Promise.allSettled([
      mutex.run("k", job("1")),
      mutex.run("k", job("2", true)),
      mutex.run("k", job("3")),
    ]);
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(mutex.isLocked("k")).toBe(false);
  });

  it("lets different keys overlap", async () => {
    const mutex = new KeyedMutex();
    let both = false;
    let inA = false;
    await Promise.all([
      mutex.run("a", async () => {
        inA = true;
        await tick();
        await tick();
        inA = false;
      }),
      mutex.run("b", async () => {
        await tick();
        both = inA;
      }),
    ]);
    expect(both).toBe(true);
  });

  it("a synchronous throw rejects the run and frees the key", async () => {
    const mutex = new KeyedMutex();
    await expect(
      mutex.run("k", () => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    await tick();
    expect(mutex.isLocked("k")).toBe(false);
    await expect(mutex.run("k", () => 42)).resolves.toBe(42);
  });

  it("tryAcquire/release take and give back a key synchronously; waiters get it in order", async () => {
    const mutex = new KeyedMutex();
    expect(mutex.tryAcquire("k")).toBe(true);
    expect(mutex.tryAcquire("k")).toBe(false);
    expect(mutex.tryRun("k", () => 1)).toBeUndefined();
    const order: number[] = [];
    const a = mutex.run("k", () => void order.push(1));
    const b = mutex.run("k", () => void order.push(2));
    await tick();
    expect(order).toEqual([]);
    mutex.release("k");
    await Promise.all([a, b]);
    expect(order).toEqual([1, 2]);
    await tick();
    expect(mutex.isLocked("k")).toBe(false);
    mutex.release("k"); // releasing a free key is a no-op
    expect(mutex.tryAcquire("k")).toBe(true);
  });
});

describe("KeyedMutex lanes", () => {
  it("keeps a key's lane while in use and drops it on forget, once free", async () => {
    const mutex = new KeyedMutex();
    const lane = mutex.lane("svc");
    expect(mutex.lane("svc")).toBe(lane);
    expect(mutex.tryAcquire(lane)).toBe(true);
    expect(mutex.isLocked("svc")).toBe(true);
    mutex.forget("svc");
    expect(mutex.size).toBe(1);
    mutex.release(lane);
    expect(mutex.size).toBe(0);
    await mutex.run("other", () => undefined);
    mutex.forget("other");
    expect(mutex.size).toBe(0);
  });
});
