// The remote router hook (kernel.setRemoteRouter): the one extension point
// @mk/cluster uses to carry calls to services on other nodes. Local first,
// then the router; 404 only when the router does not know the target either.
import { describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  type Event,
  type RemoteRouter,
  type Reply,
  type RouteOptions,
  type ServiceContext,
} from "@mk/core";
import { testKernel } from "./helpers.ts";

interface Seen {
  event: Event;
  options: RouteOptions;
}

function recordingRouter(answer: (event: Event) => Promise<Reply> | undefined): { router: RemoteRouter; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    router: {
      route: (event, options) => {
        seen.push({ event, options });
        return answer(event);
      },
    },
  };
}

const remote = (event: Event): Promise<Reply> => Promise.resolve({ code: 0, message: "remote", data: event.content });

describe("kernel.setRemoteRouter", () => {
  it("sends a call for an unknown service to the router, with the push flag and the budget", async () => {
    const { kernel } = testKernel({ defaultTimeoutMs: 1234 });
    const { router, seen } = recordingRouter(remote);
    kernel.setRemoteRouter(router);
    expect(await kernel.send({ to: "far", from: "main", type: "t", content: 1 })).toEqual({
      code: 0,
      message: "remote",
      data: 1,
    });
    expect(await kernel.push({ to: "far", from: "main", type: "t", content: 2, timeoutMs: 50 })).toEqual({
      code: 0,
      message: "remote",
      data: 2,
    });
    expect(seen.map((s) => [s.options.push, s.options.timeoutMs])).toEqual([
      [false, 1234],
      [true, 50],
    ]);
    expect(kernel.services()).toEqual([]);
    await kernel.close();
  });

  it("never asks the router for a service running here", async () => {
    const { kernel } = testKernel();
    const { router, seen } = recordingRouter(remote);
    kernel.setRemoteRouter(router);
    await kernel.register({ name: "echo", handle: (e) => ({ code: 0, message: "local", data: e.content }) });
    await kernel.start("echo");
    expect((await kernel.send({ to: "echo", from: "m", type: "t" })).message).toBe("local");
    expect((await kernel.push({ to: "echo", from: "m", type: "t" })).message).toBe("local");
    expect(seen).toEqual([]);
    await kernel.close({ stopAll: true });
  });

  it("asks the router when the local service is not running, and answers 404 as before when it does not know it", async () => {
    const { kernel } = testKernel();
    const { router, seen } = recordingRouter(() => undefined);
    kernel.setRemoteRouter(router);
    await kernel.register({ name: "echo", handle: () => ({ code: 0, message: "local" }) });
    expect(await kernel.send({ to: "echo", from: "m", type: "t" })).toEqual({
      code: 404,
      message: 'service "echo" is not running (status created)',
    });
    expect(await kernel.push({ to: "nobody", from: "m", type: "t" })).toEqual({
      code: 404,
      message: 'service "nobody" is not registered',
    });
    expect(seen.map((s) => s.event.to)).toEqual(["echo", "nobody"]);
    expect(kernel.services()[0]?.stats.refused).toBe(1);
    await kernel.close();
  });

  it("routes a service's ctx.send and ctx.push with its name as `from`", async () => {
    const { kernel } = testKernel();
    const { router, seen } = recordingRouter(remote);
    kernel.setRemoteRouter(router);
    let ctx: ServiceContext | undefined;
    await kernel.register({ name: "client", start: (c) => void (ctx = c) });
    await kernel.start("client");
    expect((await ctx?.send({ to: "far", type: "a" }))?.message).toBe("remote");
    expect((await ctx?.push({ to: "far", type: "b" }))?.message).toBe("remote");
    expect(seen.map((s) => [s.event.from, s.event.type, s.options.push])).toEqual([
      ["client", "a", false],
      ["client", "b", true],
    ]);
    await kernel.close({ stopAll: true });
  });

  it("answers 408 at the deadline when the router never answers, and drops its late reply", async () => {
    const { kernel } = testKernel();
    let late: ((reply: Reply) => void) | undefined;
    kernel.setRemoteRouter({ route: () => new Promise<Reply>((resolve) => (late = resolve)) });
    const send = await kernel.send({ to: "far", from: "m", type: "slow", timeoutMs: 20 });
    const push = await kernel.push({ to: "far", from: "m", type: "slow", timeoutMs: 20 });
    expect([send.code, push.code]).toEqual([408, 408]);
    late?.({ code: 0, message: "too late" });
    await kernel.close();
  });

  it("rejects the caller with the router's error (an encoding error, say)", async () => {
    const { kernel } = testKernel();
    const failure = new Error("cannot encode content.x: a bigint has no JSON form");
    kernel.setRemoteRouter({ route: () => Promise.reject(failure) });
    await expect(kernel.send({ to: "far", from: "m", type: "t" })).rejects.toBe(failure);
    await expect(kernel.push({ to: "far", from: "m", type: "t" })).rejects.toBe(failure);
    kernel.setRemoteRouter({
      route: () => {
        throw failure;
      },
    });
    await expect(kernel.send({ to: "far", from: "m", type: "t" })).rejects.toBe(failure);
    await kernel.close();
  });

  it("rejects with the signal's reason on abort, and passes the signal to the router", async () => {
    const { kernel } = testKernel();
    const { router, seen } = recordingRouter(() => new Promise<Reply>(() => undefined));
    kernel.setRemoteRouter(router);
    const controller = new AbortController();
    const call = kernel.send({ to: "far", from: "m", type: "t" }, { signal: controller.signal });
    controller.abort(new Error("caller gave up"));
    await expect(call).rejects.toThrow("caller gave up");
    expect(seen[0]?.options.signal).toBe(controller.signal);
    await kernel.close();
  });

  it("answers routed calls 503 when the kernel closes, and stops routing once the router is removed", async () => {
    const { kernel } = testKernel();
    kernel.setRemoteRouter({ route: () => new Promise<Reply>(() => undefined) });
    const pending = kernel.send({ to: "far", from: "m", type: "t" });
    kernel.setRemoteRouter(undefined);
    expect((await kernel.send({ to: "far", from: "m", type: "t" })).code).toBe(404);
    await kernel.close();
    expect((await pending).code).toBe(503);
  });

  it("refuses a router without route()", () => {
    const { kernel } = testKernel();
    for (const bad of [null, 1, {}, { route: "x" }]) {
      expect(() => kernel.setRemoteRouter(bad as unknown as RemoteRouter)).toThrow(InvalidArgumentError);
    }
  });
});
