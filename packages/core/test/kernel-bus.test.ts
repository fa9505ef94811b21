// The message bus through the real Kernel: services talking to each other
// through their contexts, counters in kernel.services(), deadlines with many
// calls expiring at once, and the closed kernel.
import { describe, expect, it } from "vitest";
import { KernelClosedError, type Event, type Reply, type ServiceContext } from "@mk/core";
import { deferred, testKernel } from "./helpers.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("the bus inside the kernel", () => {
  it("lets services send and push to each other with `from` filled in", async () => {
    const { kernel } = testKernel();
    const seen: Event[] = [];
    let ctx: ServiceContext | undefined;
    await kernel.register({ name: "echo", handle: (e) => (seen.push(e), { code: 0, message: "ok", data: e.content }) });
    await kernel.register({ name: "client", dependencies: ["echo"], start: (c) => void (ctx = c) });
    await kernel.startAll();
    expect(await ctx?.send({ to: "echo", type: "a", content: 1 })).toEqual({ code: 0, message: "ok", data: 1 });
    expect(await ctx?.push({ to: "echo", type: "b", content: 2 })).toEqual({ code: 0, message: "ok", data: 2 });
    expect(await ctx?.push({ type: "hello" })).toEqual({ code: 0, message: "Handled by kernel", data: "ok" });
    expect(seen.map((e) => [e.from, e.type])).toEqual([
      ["client", "a"],
      ["client", "b"],
    ]);
    await kernel.close({ stopAll: true });
  });

  it("shows the counters in kernel.services()", async () => {
    const { kernel } = testKernel({ queueCapacity: 1 });
    const gate = deferred<Reply>();
    await kernel.register({
      name: "svc",
      handle: (e) => {
        if (e.type === "fail") throw new Error("no");
        if (e.type === "hang") return new Promise<Reply>(() => undefined);
        if (e.type === "gate") return gate.promise;
        return { code: 0, message: "ok" };
      },
    });
    await kernel.send({ to: "svc", from: "t", type: "refused" });
    await kernel.startAll();
    await kernel.send({ to: "svc", from: "t", type: "ok" });
    await kernel.send({ to: "svc", from: "t", type: "fail" });
    await kernel.send({ to: "svc", from: "t", type: "hang", timeoutMs: 10 });
    const held = kernel.push({ to: "svc", from: "t", type: "gate" });
    expect((await kernel.push({ to: "svc", from: "t", type: "ok" })).code).toBe(503);
    gate.resolve({ code: 0, message: "ok" });
    await held;
    expect(kernel.services()[0]?.stats).toEqual({ handled: 2, failed: 1, timedOut: 1, refused: 2 });
    await kernel.close({ stopAll: true });
  });

  it("answers 408 to 1,000 hanging calls at their deadlines and keeps nothing", async () => {
    const { kernel } = testKernel({ queueCapacity: 1000 });
    await kernel.register({ name: "hang", handle: () => new Promise<Reply>(() => undefined) });
    await kernel.startAll();
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        (i % 2 === 0 ? kernel.send.bind(kernel) : kernel.push.bind(kernel))({
          to: "hang",
          from: "t",
          type: "x",
          timeoutMs: 5 + (i % 40),
        }),
      ),
    );
    expect(replies.every((r) => r.code === 408)).toBe(true);
    expect(kernel.services()[0]?.stats.timedOut).toBe(1000);
    // The queue is free again: the 408s released every slot.
    expect((await kernel.push({ to: "hang", from: "t", type: "x", timeoutMs: 5 })).code).toBe(408);
    await kernel.close({ stopAll: true });
  });

  it("answers 404 while the target stops, after its in-flight calls finished", async () => {
    const { kernel } = testKernel();
    const gate = deferred<Reply>();
    const stopping = deferred();
    await kernel.register({ name: "svc", handle: () => gate.promise, stop: () => stopping.promise });
    await kernel.startAll();
    const inFlight = kernel.send({ to: "svc", from: "t", type: "x" });
    await sleep(1);
    const stop = kernel.stop("svc");
    await sleep(1);
    expect(kernel.status("svc")).toBe("stopping");
    expect((await kernel.send({ to: "svc", from: "t", type: "x" })).code).toBe(404);
    gate.resolve({ code: 0, message: "finished" });
    expect(await inFlight).toEqual({ code: 0, message: "finished" });
    stopping.resolve();
    await stop;
    await kernel.close();
  });

  it("rejects kernel.send and kernel.push with KernelClosedError after close", async () => {
    const { kernel } = testKernel();
    await kernel.close();
    await expect(kernel.send({ to: "x", from: "t", type: "x" })).rejects.toBeInstanceOf(KernelClosedError);
    await expect(kernel.push({ to: "x", from: "t", type: "x" })).rejects.toBeInstanceOf(KernelClosedError);
  });
});
