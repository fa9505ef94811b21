// Regression of issue 13 #7 ("unprintable thrown values"): whatever a service
// or a listener throws, the kernel describes it, answers every call and keeps
// running. Before the fix, String(error) on these values threw inside the
// kernel: unhandled rejections, a synchronous throw out of send, pushes never
// answered (their queue slots never freed), a swap that never released its
// hold, a status stuck at "starting".
import { describeThrown } from "@mk/common";
import {
  StartFailedError,
  StateLoadFailedError,
  StopFailedError,
  SwapFailedError,
  type Reply,
  type ServiceContext,
} from "@mk/core";
import { describe, expect, it } from "vitest";
import { TestStore, testKernel } from "./helpers.ts";

const trap = (): never => {
  throw new Error("trap");
};

/** Values whose String(), message or toString throw, or that have no prototype at all. */
function hostileValues(): [string, () => unknown][] {
  return [
    [
      "a null-prototype object",
      () => {
        const bare = Object.create(null) as Record<string, unknown>;
        bare["why"] = "bare";
        return bare;
      },
    ],
    [
      "a Proxy whose every trap throws",
      () => new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, has: trap }),
    ],
    [
      "an Error whose message and toString throw",
      () => {
        const error = new Error("x");
        Object.defineProperty(error, "message", { get: trap });
        Object.defineProperty(error, "toString", { value: trap });
        return error;
      },
    ],
  ];
}

describe.each(hostileValues())("issue 13 #7: unprintable thrown values: %s", (_label, make) => {
  it("a handler that throws it (sync or async) is answered 500 by send and push, and the queue frees its slot", async () => {
    const { kernel } = testKernel({ queueCapacity: 2 });
    await kernel.register({
      name: "bad",
      handle: (event) => {
        if (event.type === "sync") throw make();
        return Promise.reject(make());
      },
    });
    await kernel.register({ name: "good", handle: () => ({ code: 0, message: "ok" }) });
    await kernel.startAll();
    for (const type of ["sync", "async"]) {
      let sent: Promise<Reply> | undefined;
      expect(() => {
        sent = kernel.send({ to: "bad", from: "t", type });
      }).not.toThrow();
      const reply = await sent;
      expect(reply?.code).toBe(500);
      expect(reply?.message).toContain(`service "bad" failed to handle "${type}": `);
      for (let i = 0; i < 3; i++) expect((await kernel.push({ to: "bad", from: "t", type })).code).toBe(500);
    }
    // Capacity 2: had the failed pushes kept their slots, a healthy service would get 503.
    expect(await kernel.push({ to: "good", from: "t", type: "x" })).toMatchObject({ code: 0 });
    expect(kernel.services().find((s) => s.name === "bad")?.stats.failed).toBe(8);
    await kernel.close({ stopAll: true });
  });

  it("a start that throws it (sync or async) fails the start; the service can be unregistered", async () => {
    const { kernel } = testKernel();
    await kernel.register({
      name: "sync",
      start: () => {
        throw make();
      },
    });
    await kernel.register({ name: "async", start: () => Promise.reject(make()) });
    for (const name of ["sync", "async"]) {
      const error = await kernel.start(name).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StartFailedError);
      expect((error as Error).message).toContain(`service "${name}" failed to start: `);
      expect(kernel.status(name)).toBe("failed");
      await kernel.unregister(name);
    }
    await kernel.close();
  });

  it("a stop that throws it fails the stop (StopFailedError); close still ends", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "sync", stop: () => void trapWith(make) });
    await kernel.register({ name: "async", stop: () => Promise.reject(make()) });
    await kernel.startAll();
    for (const name of ["sync", "async"]) {
      await expect(kernel.stop(name)).rejects.toBeInstanceOf(StopFailedError);
      expect(kernel.status(name)).toBe("failed");
    }
    await kernel.close({ stopAll: true });
  });

  it("exportState or importState throwing it fails the swap, which releases its hold", async () => {
    for (const phase of ["export", "import"] as const) {
      const { kernel } = testKernel();
      await kernel.register({
        name: "echo",
        version: "1",
        handle: () => ({ code: 0, message: "v1" }),
        exportState: () => (phase === "export" ? trapWith(make) : { n: 1 }),
      });
      await kernel.start("echo");
      const error = await kernel
        .replace({
          name: "echo",
          version: "2",
          handle: () => ({ code: 0, message: "v2" }),
          importState: () => (phase === "import" ? trapWith(make) : undefined),
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SwapFailedError);
      expect((error as SwapFailedError).phase).toBe(phase);
      // Answered by v1 (not 408 forever): the hold was released.
      expect(await kernel.send({ to: "echo", from: "t", type: "x", timeoutMs: 5000 })).toMatchObject({
        code: 0,
        message: "v1",
      });
      await kernel.close({ stopAll: true });
    }
  });

  it("a new version whose start and stop throw it is rolled back without an unhandled rejection", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "echo", version: "1", handle: () => ({ code: 0, message: "v1" }) });
    await kernel.start("echo");
    const error = await kernel
      .replace({
        name: "echo",
        version: "2",
        start: () => Promise.reject(make()),
        stop: () => Promise.reject(make()),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwapFailedError);
    expect(await kernel.send({ to: "echo", from: "t", type: "x" })).toMatchObject({ code: 0, message: "v1" });
    // Let the rollback's fire-and-forget stop of v2 settle inside the test.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await kernel.close({ stopAll: true });
  });

  it("importState throwing it at register is a StateLoadFailedError; nothing is registered", async () => {
    const store = new TestStore();
    await store.save("echo", { n: 1 });
    const { kernel } = testKernel({ store });
    const error = await kernel.register({ name: "echo", importState: () => trapWith(make) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateLoadFailedError);
    expect(kernel.services()).toEqual([]);
    await kernel.close();
  });

  it("an event listener that throws it is logged; the operation and other listeners go on", async () => {
    const { kernel, log } = testKernel();
    const seen: string[] = [];
    kernel.on("status", () => trapWith(make));
    kernel.on("status", (change) => void seen.push(change.to));
    await kernel.register({ name: "echo" });
    await kernel.start("echo");
    expect(seen).toEqual(["created", "starting", "running"]);
    expect(log.lines().filter((l) => l.startsWith("[kernel] a status listener threw: "))).toHaveLength(3);
    await kernel.close({ stopAll: true });
  });

  it("ctx.fail with it is a crash like any other: no throw, and the kernel closes cleanly", async () => {
    const { kernel } = testKernel();
    let ctx: ServiceContext | undefined;
    await kernel.register({
      name: "crashy",
      start: (c) => {
        ctx = c;
      },
    });
    await kernel.start("crashy");
    expect(() => ctx?.fail(make())).not.toThrow();
    await kernel.close({ stopAll: true });
  });

  it("is described the same way the kernel's messages describe it", () => {
    expect(typeof describeThrown(make())).toBe("string");
  });
});

function trapWith(make: () => unknown): never {
  throw make();
}
