import { createLogger, type LogRecord, type Logger } from "@mk/logger";
import { describe, expect, it } from "vitest";
import { InvalidEventError } from "../errors.ts";
import type { Endpoint } from "./endpoint.ts";
import { MessageBus } from "./message-bus.ts";
import type { Event, Reply, Service, ServiceContext, ServiceStats, ServiceStatus } from "../types.ts";

// The bus's real inputs: endpoints as the registry hands them over.
class TestEndpoint implements Endpoint {
  status: ServiceStatus = "running";
  service: Service;
  readonly stats: ServiceStats = { handled: 0, failed: 0, timedOut: 0, refused: 0 };
  readonly context: ServiceContext;
  constructor(service: Service) {
    this.service = service;
    this.context = {
      name: service.name,
      logger: quiet,
      signal: new AbortController().signal,
      send: () => Promise.reject(new Error("unused")),
      push: () => Promise.reject(new Error("unused")),
      fail: () => undefined,
      checkpoint: () => Promise.resolve(),
    };
  }
}

const quiet: Logger = createLogger({ level: "error", sinks: [() => undefined] });

function setup(services: Service[], options: { defaultTimeoutMs?: number; queueCapacity?: number } = {}) {
  const endpoints = new Map<string, TestEndpoint>(services.map((s) => [s.name, new TestEndpoint(s)]));
  const bus = new MessageBus({
    lookup: (name) => endpoints.get(name),
    defaultTimeoutMs: options.defaultTimeoutMs ?? 5000,
    queueCapacity: options.queueCapacity ?? 1024,
    logger: quiet,
  });
  const ep = (name: string): TestEndpoint => endpoints.get(name) as TestEndpoint;
  return { bus, endpoints, ep };
}

const ok = (data?: unknown): Reply => ({ code: 0, message: "ok", data });
const evt = (to: string | undefined, content?: unknown, extra: Partial<Event> = {}): Event => {
  const e: Event = { from: "test", type: "t", content, ...extra };
  if (to !== undefined) e.to = to;
  return e;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

const echoSync: Service = { name: "echo", handle: (e) => ok(e.content) };
const echoAsync: Service = { name: "slow", handle: async (e) => ok(e.content) };

describe.each(["send", "push"] as const)("MessageBus.%s", (method) => {
  it("answers an event for the kernel itself", async () => {
    const { bus } = setup([]);
    const expected = { code: 0, message: "Handled by kernel", data: "ok" };
    expect(await bus[method](evt(undefined))).toEqual(expected);
    expect(await bus[method](evt(""))).toEqual(expected);
  });

  it("delivers to sync and async handlers and counts them", async () => {
    const { bus, ep } = setup([echoSync, echoAsync]);
    expect(await bus[method](evt("echo", 1))).toEqual(ok(1));
    expect(await bus[method](evt("slow", 2))).toEqual(ok(2));
    expect(ep("echo").stats).toEqual({ handled: 1, failed: 0, timedOut: 0, refused: 0 });
    expect(ep("slow").stats.handled).toBe(1);
    expect(bus.pending).toBe(0);
  });

  it("passes the endpoint's context and the event to the handler", async () => {
    let seen: [Event, ServiceContext] | undefined;
    const { bus, ep } = setup([{ name: "a", handle: (e, ctx) => ((seen = [e, ctx]), ok()) }]);
    const e = evt("a", "x");
    await bus[method](e);
    expect(seen?.[0]).toBe(e);
    expect(seen?.[1]).toBe(ep("a").context);
  });

  it("answers 404 for unknown targets, services not running, and services without handle", async () => {
    const { bus, ep } = setup([echoSync, { name: "mute" }]);
    expect(await bus[method](evt("nope"))).toMatchObject({
      code: 404,
      message: expect.stringContaining('"nope" is not registered'),
    });
    for (const status of ["created", "starting", "stopping", "stopped", "failed"] as const) {
      ep("echo").status = status;
      expect(await bus[method](evt("echo"))).toMatchObject({
        code: 404,
        message: expect.stringContaining(`status ${status}`),
      });
    }
    expect(await bus[method](evt("mute"))).toMatchObject({ code: 404, message: expect.stringContaining("no handle") });
    expect(ep("echo").stats.refused).toBe(5);
    expect(ep("echo").stats.handled).toBe(0);
    expect(ep("mute").stats.refused).toBe(1);
  });

  it("answers 500 with the reason when the handler throws, rejects or returns garbage, and carries on", async () => {
    const { bus, ep } = setup([
      {
        name: "bad",
        handle: (e) => {
          if (e.type === "throw") throw new Error("boom");
          if (e.type === "reject") return Promise.reject(new Error("async boom"));
          if (e.type === "garbage") return 42 as unknown as Reply;
          if (e.type === "null") return Promise.resolve(null as unknown as Reply);
          if (e.type === "bad-thenable")
            return {
              // oxlint-disable-next-line unicorn/no-thenable -- the case under test: a hand-made thenable whose then() throws
              then: () => {
                throw new Error("then boom");
              },
            } as unknown as Reply;
          return ok("fine");
        },
      },
    ]);
    expect(await bus[method](evt("bad", 0, { type: "throw" }))).toMatchObject({
      code: 500,
      message: expect.stringContaining("boom"),
    });
    expect(await bus[method](evt("bad", 0, { type: "reject" }))).toMatchObject({
      code: 500,
      message: expect.stringContaining("async boom"),
    });
    expect(await bus[method](evt("bad", 0, { type: "garbage" }))).toMatchObject({
      code: 500,
      message: expect.stringContaining("invalid reply"),
    });
    expect(await bus[method](evt("bad", 0, { type: "null" }))).toMatchObject({
      code: 500,
      message: expect.stringContaining("got null"),
    });
    expect(await bus[method](evt("bad", 0, { type: "bad-thenable" }))).toMatchObject({
      code: 500,
      message: expect.stringContaining("then boom"),
    });
    expect(await bus[method](evt("bad"))).toEqual(ok("fine"));
    expect(ep("bad").stats).toEqual({ handled: 1, failed: 5, timedOut: 0, refused: 0 });
    expect(bus.pending).toBe(0);
  });

  it("answers 408 when the handler never settles, and leaves no timer or pending call behind", async () => {
    await sleep(30); // other tests' wheels stop at their next idle tick
    const before = timers();
    const { bus, ep } = setup([{ name: "hang", handle: () => new Promise<Reply>(() => undefined) }]);
    const started = Date.now();
    const reply = await bus[method](evt("hang", 0, { timeoutMs: 20 }));
    expect(reply).toMatchObject({ code: 408, message: expect.stringContaining("within 20 ms") });
    expect(Date.now() - started).toBeGreaterThanOrEqual(19);
    expect(ep("hang").stats.timedOut).toBe(1);
    expect(bus.pending).toBe(0);
    expect(bus.inFlight("hang")).toBe(0);
    await sleep(50);
    // Our interval is gone (other suites' timers may have ended too, so not strictly equal).
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it("never answers 408 early, even for a call made right after the event loop was blocked", async () => {
    const { bus } = setup([{ name: "hang", handle: () => new Promise<Reply>(() => undefined) }]);
    const warm = bus[method](evt("hang", 0, { timeoutMs: 200 })); // the wheel's timer is running
    await sleep(7);
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // Block the loop past a few ticks, as a heavy synchronous handler would.
    }
    const started = performance.now();
    expect((await bus[method](evt("hang", 0, { timeoutMs: 20 }))).code).toBe(408);
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
    expect((await warm).code).toBe(408);
  });

  it("drops a late reply after 408", async () => {
    let finish: ((r: Reply) => void) | undefined;
    const { bus, ep } = setup([{ name: "late", handle: () => new Promise<Reply>((r) => (finish = r)) }]);
    const reply = await bus[method](evt("late", 0, { timeoutMs: 10 }));
    expect(reply.code).toBe(408);
    finish?.(ok("too late"));
    await sleep(1);
    expect(ep("late").stats).toEqual({ handled: 0, failed: 0, timedOut: 1, refused: 0 });
    expect(bus.pending).toBe(0);
  });

  it("uses the default deadline when the event has none", async () => {
    const { bus } = setup([{ name: "hang", handle: () => new Promise<Reply>(() => undefined) }], {
      defaultTimeoutMs: 15,
    });
    expect((await bus[method](evt("hang"))).code).toBe(408);
  });

  it("rejects garbage with InvalidEventError and delivers nothing", async () => {
    let calls = 0;
    const { bus } = setup([{ name: "a", handle: () => (calls++, ok()) }]);
    const garbage: unknown[] = [
      undefined,
      null,
      42,
      "a",
      { to: 42, from: "x", type: "t" },
      { to: "a", from: "x" },
      { to: "a", from: "x", type: "t", timeoutMs: 0 },
      { to: "a", from: "x", type: "t", timeoutMs: -1 },
      { to: "a", from: "x", type: "t", timeoutMs: Number.NaN },
      { to: "a", from: "x", type: "t", timeoutMs: Infinity },
      { to: "a", from: "x", type: "t", timeoutMs: "10" },
    ];
    for (const g of garbage) {
      const error = await bus[method](g as Event).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as InvalidEventError).code).toBe("INVALID_EVENT");
    }
    expect(calls).toBe(0);
  });

  it("rejects with the signal's reason when aborted while waiting, and forgets the call", async () => {
    let finish: ((r: Reply) => void) | undefined;
    const { bus, ep } = setup([{ name: "slow", handle: () => new Promise<Reply>((r) => (finish = r)) }]);
    const controller = new AbortController();
    const waiting = bus[method](evt("slow"), { signal: controller.signal });
    await sleep(1);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    // The handler still runs: it counts as in flight until it settles (a swap must wait for it).
    expect(bus.inFlight("slow")).toBe(1);
    finish?.(ok());
    await sleep(1);
    expect(bus.inFlight("slow")).toBe(0);
    expect(bus.pending).toBe(0);
    expect(ep("slow").stats.handled).toBe(1);
  });

  it("rejects a signal that is not an AbortSignal", async () => {
    const { bus } = setup([echoSync]);
    for (const signal of [42, "x", {}, null]) {
      await expect(bus[method](evt("echo"), { signal } as unknown as { signal: AbortSignal })).rejects.toThrow(
        "expected options.signal to be an AbortSignal",
      );
    }
    expect(await bus[method](evt("echo", 1), 7 as never)).toEqual(ok(1));
  });

  it("rejects at once with an already aborted signal and does not deliver", async () => {
    let calls = 0;
    const { bus } = setup([{ name: "a", handle: () => (calls++, ok()) }]);
    const controller = new AbortController();
    controller.abort(new Error("already"));
    await expect(bus[method](evt("a"), { signal: controller.signal })).rejects.toThrow("already");
    expect(calls).toBe(0);
  });

  it("answers normally with a signal that never aborts", async () => {
    const { bus } = setup([echoSync, echoAsync]);
    const controller = new AbortController();
    expect(await bus[method](evt("echo", 1), { signal: controller.signal })).toEqual(ok(1));
    expect(await bus[method](evt("slow", 2), { signal: controller.signal })).toEqual(ok(2));
    controller.abort();
    expect(bus.pending).toBe(0);
  });

  it("holds deliveries and releases them in arrival order to the version found at release", async () => {
    const seen: string[] = [];
    const v1: Service = { name: "svc", version: "1", handle: (e) => (seen.push(`v1:${String(e.content)}`), ok(1)) };
    const v2: Service = { name: "svc", version: "2", handle: (e) => (seen.push(`v2:${String(e.content)}`), ok(2)) };
    const { bus, ep } = setup([v1]);
    bus.hold("svc");
    const replies = [0, 1, 2, 3, 4].map((i) => bus[method](evt("svc", i)));
    await sleep(5);
    expect(seen).toEqual([]);
    ep("svc").status = "stopping";
    ep("svc").service = v2;
    ep("svc").status = "running";
    bus.release("svc");
    expect((await Promise.all(replies)).map((r) => r.data)).toEqual([2, 2, 2, 2, 2]);
    expect(seen).toEqual(["v2:0", "v2:1", "v2:2", "v2:3", "v2:4"]);
    expect(bus.pending).toBe(0);
  });

  it("keeps call order across a hold: pushes queued before the hold are held too, ahead of later sends", async () => {
    const seen: unknown[] = [];
    const { bus } = setup([{ name: "svc", handle: (e) => (seen.push(e.content), ok()) }]);
    const first = bus.push(evt("svc", "push-before-hold"));
    bus.hold("svc");
    const rest = [bus.send(evt("svc", "send")), bus.push(evt("svc", "push")), bus.send(evt("svc", "send2"))];
    await sleep(1);
    expect(seen).toEqual([]);
    expect(bus.release("svc")).toBe(4);
    await Promise.all([first, ...rest]);
    expect(seen).toEqual(["push-before-hold", "send", "push", "send2"]);
  });

  it("answers 408 for a held call whose deadline passes, and never delivers it later", async () => {
    let calls = 0;
    const { bus } = setup([{ name: "a", handle: () => (calls++, ok()) }]);
    bus.hold("a");
    expect((await bus[method](evt("a", 0, { timeoutMs: 10 }))).code).toBe(408);
    bus.release("a");
    expect(calls).toBe(0);
    expect(bus.pending).toBe(0);
  });

  it("answers pending calls and later calls 503 after close", async () => {
    const { bus } = setup([{ name: "hang", handle: () => new Promise<Reply>(() => undefined) }, echoSync]);
    const waiting = bus[method](evt("hang"));
    await sleep(1);
    bus.close();
    expect(await waiting).toMatchObject({ code: 503, message: expect.stringContaining("closed") });
    expect(await bus[method](evt("echo"))).toMatchObject({ code: 503 });
    expect(bus.pending).toBe(0);
  });
});

describe("MessageBus.push", () => {
  it("gives each of 10,000 concurrent pushes its own reply", async () => {
    const { bus, ep } = setup([{ name: "slow", handle: async (e) => ok((e.content as number) * 2) }], {
      queueCapacity: 10_000,
    });
    const replies = await Promise.all(Array.from({ length: 10_000 }, (_, i) => bus.push(evt("slow", i))));
    replies.forEach((r, i) => expect(r).toEqual(ok(i * 2)));
    expect(ep("slow").stats.handled).toBe(10_000);
    expect(bus.pending).toBe(0);
  });

  it("answers 503 at once past queueCapacity while the others succeed, and takes pushes again once answered", async () => {
    const gates: ((r: Reply) => void)[] = [];
    const { bus, ep } = setup([{ name: "gate", handle: () => new Promise<Reply>((r) => gates.push(r)) }], {
      queueCapacity: 10,
    });
    const accepted = Array.from({ length: 10 }, (_, i) => bus.push(evt("gate", i)));
    const refused = await Promise.all(Array.from({ length: 5 }, (_, i) => bus.push(evt("gate", 10 + i))));
    for (const r of refused) expect(r).toMatchObject({ code: 503, message: expect.stringContaining("queue is full") });
    expect(ep("gate").stats.refused).toBe(5);
    // send is direct: never limited by the push queue.
    const direct = bus.send(evt("gate", "direct"));
    await sleep(1);
    gates.forEach((g, i) => g(ok(i)));
    expect((await Promise.all(accepted)).map((r) => r.code)).toEqual(Array(10).fill(0));
    expect((await direct).code).toBe(0);
    const again = bus.push(evt("gate"));
    await sleep(1);
    gates.at(-1)?.(ok());
    expect((await again).code).toBe(0);
  });

  it("invokes the handler in push order, across senders", async () => {
    const seen: number[] = [];
    const { bus } = setup([{ name: "log", handle: async (e) => (seen.push(e.content as number), ok()) }]);
    const all: Promise<Reply>[] = [];
    for (let i = 0; i < 200; i++) all.push(bus.push({ to: "log", from: `sender${i % 3}`, type: "t", content: i }));
    await Promise.all(all);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it("lets a handler push to others from inside the loop", async () => {
    const { bus } = setup([]);
    const endpoints = new Map<string, TestEndpoint>();
    const relay = new MessageBus({
      lookup: (n) => endpoints.get(n),
      defaultTimeoutMs: 1000,
      queueCapacity: 8,
      logger: quiet,
    });
    endpoints.set("b", new TestEndpoint({ name: "b", handle: (e) => ok(`b:${String(e.content)}`) }));
    endpoints.set(
      "a",
      new TestEndpoint({ name: "a", handle: (e) => relay.push({ to: "b", from: "a", type: "t", content: e.content }) }),
    );
    expect(await relay.push(evt("a", "hi"))).toEqual(ok("b:hi"));
    bus.close();
  });
});

describe("MessageBus.drain and inFlight", () => {
  it("waits for running handler calls and reports the count", async () => {
    const gates: ((r: Reply) => void)[] = [];
    const { bus } = setup([{ name: "g", handle: () => new Promise<Reply>((r) => gates.push(r)) }, echoSync]);
    const calls = [bus.send(evt("g")), bus.push(evt("g")), bus.send(evt("echo"))];
    await sleep(1);
    expect(bus.inFlight("g")).toBe(2);
    expect(bus.inFlight("echo")).toBe(0);
    expect(await bus.drain("echo", 10)).toBe(true);
    let drained: boolean | undefined;
    const draining = bus.drain("g", 5000).then((d) => (drained = d));
    gates[0]?.(ok());
    await sleep(1);
    expect(drained).toBeUndefined();
    gates[1]?.(ok());
    await draining;
    expect(drained).toBe(true);
    await Promise.all(calls);
  });

  it("resolves false at its own deadline, and true once deadlines expire the calls", async () => {
    const { bus } = setup([{ name: "hang", handle: () => new Promise<Reply>(() => undefined) }]);
    const call = bus.send(evt("hang", 0, { timeoutMs: 60 }));
    expect(await bus.drain("hang", 5)).toBe(false);
    expect(await bus.drain("hang", 5000)).toBe(true);
    expect((await call).code).toBe(408);
  });
});

describe("a handler that throws is logged with its stack (issue 13 item 16)", () => {
  it.each(["send", "push"] as const)(
    "regression: %s logs the thrown Error itself, not its message alone",
    async (method) => {
      const records: LogRecord[] = [];
      const logger = createLogger({ service: "kernel", sinks: [(r) => records.push(r)] });
      const boom = new Error("boom", { cause: new Error("root") });
      const endpoint = new TestEndpoint({
        name: "thrower",
        handle: () => {
          throw boom;
        },
      });
      const bus = new MessageBus({
        lookup: (name) => (name === "thrower" ? endpoint : undefined),
        defaultTimeoutMs: 5000,
        queueCapacity: 16,
        logger,
      });
      const reply = await bus[method](evt("thrower"));
      expect(reply.code).toBe(500);
      expect(records).toHaveLength(1);
      expect(records[0]?.message).toBe(reply.message);
      expect(records[0]?.fields).toEqual({ err: boom }); // the sinks write its type, message, stack and cause
    },
  );

  it("a thrown value that is not an Error is logged by its description only", async () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ service: "kernel", sinks: [(r) => records.push(r)] });
    for (const thrown of ["plain string", 42]) {
      const endpoint = new TestEndpoint({
        name: "thrower",
        handle: () => {
          throw thrown;
        },
      });
      const bus = new MessageBus({
        lookup: (name) => (name === "thrower" ? endpoint : undefined),
        defaultTimeoutMs: 5000,
        queueCapacity: 16,
        logger,
      });
      expect((await bus.send(evt("thrower"))).code).toBe(500);
    }
    expect(records.map((r) => r.fields)).toEqual([undefined, undefined]);
  });
});
