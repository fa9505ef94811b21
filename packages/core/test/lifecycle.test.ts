import { describe, expect, it } from "vitest";
import {
  InvalidStateError,
  LifecycleTimeoutError,
  StartFailedError,
  StopFailedError,
  type ServiceContext,
} from "@mk/core";
import { deferred, Recorder, testKernel } from "./helpers.ts";

describe("one service's lifecycle", () => {
  it("goes created -> starting -> running -> stopping -> stopped, observable as events", async () => {
    const { kernel, statuses } = testKernel();
    await kernel.register({ name: "a", version: "2" });
    expect(kernel.status("a")).toBe("created");
    await kernel.start("a");
    expect(kernel.status("a")).toBe("running");
    await kernel.stop("a");
    expect(kernel.status("a")).toBe("stopped");
    expect(statuses.map((s) => `${s.from ?? "-"}>${s.to}`)).toEqual([
      "->created",
      "created>starting",
      "starting>running",
      "running>stopping",
      "stopping>stopped",
    ]);
    expect(statuses.every((s) => s.name === "a" && s.version === "2")).toBe(true);
    await kernel.close();
  });

  it("reports `starting` while start is pending", async () => {
    const { kernel } = testKernel();
    const gate = deferred();
    await kernel.register({ name: "slow", start: () => gate.promise });
    const started = kernel.start("slow");
    await new Promise((r) => setImmediate(r));
    expect(kernel.status("slow")).toBe("starting");
    gate.resolve();
    await started;
    expect(kernel.status("slow")).toBe("running");
    await kernel.close();
  });

  it("a start that throws or rejects marks the service failed with START_FAILED naming it and its cause", async () => {
    const { kernel } = testKernel();
    await kernel.register({
      name: "sync",
      start: () => {
        throw new Error("no port");
      },
    });
    await kernel.register({
      name: "async",
      start: async () => {
        throw new Error("no db");
      },
    });
    const a = await kernel.start("sync").catch((e: unknown) => e);
    const b = await kernel.start("async").catch((e: unknown) => e);
    expect(a).toBeInstanceOf(StartFailedError);
    expect(a).toMatchObject({ code: "START_FAILED", service: "sync" });
    expect((a as Error).message).toBe('service "sync" failed to start: no port');
    expect(((a as Error).cause as Error).message).toBe("no port");
    expect(b).toMatchObject({ code: "START_FAILED", service: "async" });
    expect(kernel.status("sync")).toBe("failed");
    expect(kernel.status("async")).toBe("failed");
    await kernel.close();
  });

  it("a start that never settles times out (START_TIMEOUT), the service is failed and its signal aborted", async () => {
    const { kernel } = testKernel({ startTimeoutMs: 50 });
    let signal: AbortSignal | undefined;
    await kernel.register({
      name: "hang",
      start: (ctx) => {
        signal = ctx.signal;
        return new Promise<void>(() => {});
      },
    });
    const error = await kernel.start("hang").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleTimeoutError);
    expect(error).toMatchObject({ code: "START_TIMEOUT", service: "hang", timeoutMs: 50 });
    expect(kernel.status("hang")).toBe("failed");
    expect(signal?.aborted).toBe(true);
    await kernel.close();
  });

  it("a service's own startTimeoutMs overrides the kernel default", async () => {
    const { kernel } = testKernel({ startTimeoutMs: 60_000 });
    await kernel.register({ name: "hang", startTimeoutMs: 30, start: () => new Promise<void>(() => {}) });
    await expect(kernel.start("hang")).rejects.toMatchObject({ code: "START_TIMEOUT", timeoutMs: 30 });
    await kernel.close();
  });

  it("a failed service can be started again", async () => {
    const { kernel } = testKernel();
    let attempts = 0;
    await kernel.register({
      name: "flaky",
      start: () => {
        if (++attempts === 1) throw new Error("first time");
      },
    });
    await expect(kernel.start("flaky")).rejects.toThrow("first time");
    await kernel.start("flaky");
    expect(kernel.status("flaky")).toBe("running");
    await kernel.close();
  });

  it("a stop that throws marks the service failed (STOP_FAILED); one that hangs times out (STOP_TIMEOUT)", async () => {
    const { kernel } = testKernel({ stopTimeoutMs: 40 });
    await kernel.register({
      name: "bad",
      stop: () => {
        throw new Error("disk gone");
      },
    });
    await kernel.register({ name: "hang", stop: () => new Promise<void>(() => {}) });
    await kernel.startAll();
    const bad = await kernel.stop("bad").catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(StopFailedError);
    expect((bad as Error).message).toBe('service "bad" failed to stop: disk gone');
    expect(kernel.status("bad")).toBe("failed");
    await expect(kernel.stop("hang")).rejects.toMatchObject({ code: "STOP_TIMEOUT", service: "hang" });
    expect(kernel.status("hang")).toBe("failed");
    await kernel.close();
  });

  it("gives each start a fresh context whose signal aborts at stop", async () => {
    const { kernel } = testKernel();
    const contexts: ServiceContext[] = [];
    await kernel.register({ name: "a", start: (ctx) => void contexts.push(ctx) });
    await kernel.start("a");
    expect(contexts[0]?.signal.aborted).toBe(false);
    expect(contexts[0]?.name).toBe("a");
    await kernel.stop("a");
    expect(contexts[0]?.signal.aborted).toBe(true);
    await kernel.start("a");
    expect(contexts).toHaveLength(2);
    expect(contexts[1]).not.toBe(contexts[0]);
    expect(contexts[1]?.signal.aborted).toBe(false);
    await kernel.close();
  });

  it("is idempotent: starting a running service and stopping a stopped (or never started) one do nothing", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("a"));
    await kernel.stop("a");
    expect(kernel.status("a")).toBe("created");
    await kernel.start("a");
    await kernel.start("a");
    await kernel.stop("a");
    await kernel.stop("a");
    expect(rec.calls).toEqual(["start:a", "stop:a"]);
    await kernel.close();
  });

  it("serializes concurrent starts and stops of one service", async () => {
    const { kernel } = testKernel();
    const rec = new Recorder();
    await kernel.register(rec.service("a", [], { start: () => new Promise<void>((r) => setTimeout(r, 10)) }));
    await Promise.all([kernel.start("a"), kernel.start("a"), kernel.stop("a"), kernel.start("a")]);
    expect(rec.calls).toEqual(["start:a", "stop:a", "start:a"]);
    expect(kernel.status("a")).toBe("running");
    await kernel.close({ stopAll: true });
  });

  it("unregister refuses a running service, and works once it is stopped", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "a" });
    await kernel.start("a");
    const error = await kernel.unregister("a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ code: "INVALID_STATE", service: "a" });
    expect(kernel.status("a")).toBe("running");
    await kernel.stop("a");
    await kernel.unregister("a");
    expect(() => kernel.status("a")).toThrow(expect.objectContaining({ code: "SERVICE_NOT_FOUND" }));
    // The name is free again.
    await kernel.register({ name: "a" });
    await kernel.close();
  });

  it("a listener that throws does not break the operation", async () => {
    const { kernel, log } = testKernel();
    kernel.on("status", () => {
      throw new Error("listener bug");
    });
    await kernel.register({ name: "a" });
    await kernel.start("a");
    expect(kernel.status("a")).toBe("running");
    expect(log.lines().some((l) => l.includes("listener bug"))).toBe(true);
    await kernel.close();
  });

  it("on() returns an unsubscribe function", async () => {
    const { kernel } = testKernel();
    const seen: string[] = [];
    const off = kernel.on("status", (c) => seen.push(c.to));
    await kernel.register({ name: "a" });
    off();
    off();
    await kernel.start("a");
    expect(seen).toEqual(["created"]);
    await kernel.close();
  });
});

describe("edges of the lifecycle", () => {
  it("a start that settles after its deadline does not bring the service back to running", async () => {
    const { kernel } = testKernel({ startTimeoutMs: 30 });
    const gate = deferred();
    await kernel.register({ name: "late", start: () => gate.promise });
    await expect(kernel.start("late")).rejects.toMatchObject({ code: "START_TIMEOUT" });
    gate.resolve();
    await new Promise((r) => setTimeout(r, 10));
    expect(kernel.status("late")).toBe("failed");
    await kernel.close();
  });

  it("each service logs through its own child logger, the kernel through `kernel`", async () => {
    const { kernel, log } = testKernel();
    await kernel.register({ name: "svc", start: (ctx) => ctx.logger.info("hello from %s", ctx.name) });
    await kernel.start("svc");
    expect(log.lines()).toContain("[svc] hello from svc");
    expect(log.lines()).toContain("[kernel] started svc");
    await kernel.close();
  });

  it("close({ stopAll: true }) rejects with stopAll's error and is closed anyway", async () => {
    const { kernel } = testKernel();
    await kernel.register({
      name: "bad",
      stop: () => {
        throw new Error("stuck");
      },
    });
    await kernel.start("bad");
    await expect(kernel.close({ stopAll: true })).rejects.toMatchObject({ code: "STOP_ALL_FAILED" });
    await expect(kernel.start("bad")).rejects.toMatchObject({ code: "KERNEL_CLOSED" });
  });
});
