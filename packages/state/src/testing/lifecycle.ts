import { expect, it } from "vitest";
import { rejection, type SuiteContext } from "./suite.ts";

/** `close()`: idempotent, waits for work already started, refuses work after it. */
export function lifecycle(context: SuiteContext): void {
  it("close() resolves, twice, even on a store never used", async () => {
    const store = await context.open();
    await expect(store.close()).resolves.toBeUndefined();
    await expect(store.close()).resolves.toBeUndefined();
  });

  it("every method after close() rejects with STATE_CLOSED (a rejection, never a synchronous throw)", async () => {
    const store = await context.open();
    await store.save("echo", 1);
    await store.close();
    for (const call of [
      () => store.save("echo", 2),
      () => store.load("echo"),
      () => store.exists("echo"),
      () => store.delete("echo"),
      () => store.list(),
    ]) {
      const promise = call();
      expect(promise).toBeInstanceOf(Promise);
      expect((await rejection(promise)).code).toBe("STATE_CLOSED");
    }
  });

  it("close() waits for the saves already started; what they saved stays", async () => {
    const store = await context.open();
    const saves = Array.from({ length: 5 }, (_, i) => store.save("echo", { i }, { epoch: 3 }));
    const closing = store.close();
    await Promise.all(saves);
    await closing;
    const after = await context.open();
    expect(await after.load("echo")).toMatchObject({ state: { i: 4 }, epoch: 3 });
  });

  it("closing one instance leaves another on the same data working", async () => {
    const a = await context.open();
    const b = await context.open();
    await a.save("echo", 1);
    await a.close();
    await b.save("echo", 2, { ifGeneration: (await b.load("echo"))?.generation ?? -1 });
    expect((await b.load("echo"))?.state).toBe(2);
  });

  it("generation and epoch survive closing and reopening", async () => {
    const first = await context.open();
    await first.save("echo", 1, { epoch: 4 });
    const loaded = await first.load("echo");
    await first.close();
    const second = await context.open();
    expect(await second.load("echo")).toMatchObject({ state: 1, epoch: 4, generation: loaded?.generation });
    expect((await rejection(second.save("echo", 2, { epoch: 3 }))).code).toBe("STATE_FENCED");
    await second.save("echo", 2, { epoch: 4, ifGeneration: loaded?.generation ?? -1 });
  });
}
