import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AlreadyRegisteredError,
  InvalidArgumentError,
  InvalidNameError,
  Kernel,
  KernelClosedError,
  ServiceNotFoundError,
} from "@mk/core";
import { captureLogger, testKernel } from "./helpers.ts";

const BAD_NAMES: unknown[] = [
  "",
  "../x",
  "a/b",
  ".hidden",
  "-x",
  "_x",
  "a b",
  "a\u0000b",
  "é",
  "x".repeat(129),
  42,
  null,
  undefined,
  {},
  ["a"],
];

describe("register", () => {
  it.each(BAD_NAMES.map((n) => [n]))("refuses the name %j with INVALID_NAME and registers nothing", async (name) => {
    const { kernel } = testKernel();
    const error = await kernel.register({ name } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidNameError);
    expect(error).toMatchObject({ code: "INVALID_NAME" });
    expect((error as Error).message).toContain("expected");
    expect(kernel.services()).toEqual([]);
    await kernel.close();
  });

  it("accepts names up to 128 characters with dots, dashes and underscores", async () => {
    const { kernel } = testKernel();
    const long = `a${"b".repeat(127)}`;
    await kernel.register({ name: long });
    await kernel.register({ name: "v1.api_gateway-2" });
    expect(kernel.services().map((s) => s.name)).toEqual([long, "v1.api_gateway-2"]);
    await kernel.close();
  });

  it("property: a name is accepted exactly when it matches the pattern", async () => {
    const { kernel } = testKernel();
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 140 }), async (name) => {
        const ok = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name);
        const result = await kernel.register({ name }).then(
          () => "ok",
          (e: unknown) => (e as { code?: string }).code,
        );
        if (ok) expect(["ok", "ALREADY_REGISTERED"]).toContain(result);
        else expect(result).toBe("INVALID_NAME");
      }),
    );
    await kernel.close();
  });

  it("refuses garbage services and dependency lists with a typed error", async () => {
    const { kernel } = testKernel();
    await expect(kernel.register(null as never)).rejects.toThrow(InvalidArgumentError);
    await expect(kernel.register("svc" as never)).rejects.toThrow(InvalidArgumentError);
    await expect(kernel.register({ name: "a", dependencies: "b" } as never)).rejects.toThrow(/dependencies/);
    await expect(kernel.register({ name: "a", dependencies: ["../etc"] })).rejects.toBeInstanceOf(InvalidNameError);
    for (const method of ["start", "stop", "handle", "exportState", "importState"]) {
      await expect(kernel.register({ name: "a", [method]: 3 } as never)).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        service: "a",
        message: `service "a": expected ${method} to be a function, got number`,
      });
    }
    await expect(kernel.register({ name: "a", version: 2 } as never)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(kernel.services()).toEqual([]);
    await kernel.close();
  });

  it("refuses a duplicate with ALREADY_REGISTERED and leaves the first untouched", async () => {
    const { kernel } = testKernel();
    const first = { name: "a", version: "1" };
    await kernel.register(first);
    await kernel.start("a");
    const error = await kernel.register({ name: "a", version: "2" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlreadyRegisteredError);
    expect(error).toMatchObject({ code: "ALREADY_REGISTERED", service: "a" });
    expect(kernel.services()).toMatchObject([{ name: "a", version: "1", status: "running" }]);
    await kernel.close({ stopAll: true });
  });

  it("refuses the second of two concurrent registrations of one name", async () => {
    const { kernel } = testKernel();
    const results = await Promise.allSettled([
      kernel.register({ name: "a", version: "1" }),
      kernel.register({ name: "a", version: "2" }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    expect(kernel.services()).toHaveLength(1);
    await kernel.close();
  });

  it("services() lists name, version, status, dependencies and counters in registration order", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "db", version: "3.1" });
    await kernel.register({ name: "api", dependencies: ["db"] });
    const list = kernel.services();
    expect(list).toEqual([
      {
        name: "db",
        version: "3.1",
        status: "created",
        dependencies: [],
        stats: { handled: 0, failed: 0, timedOut: 0, refused: 0 },
        restarts: 0,
      },
      {
        name: "api",
        status: "created",
        dependencies: ["db"],
        stats: { handled: 0, failed: 0, timedOut: 0, refused: 0 },
        restarts: 0,
      },
    ]);
    // A copy: changing it changes nothing inside.
    list[1]?.dependencies.push("zzz");
    expect(kernel.services()[1]?.dependencies).toEqual(["db"]);
    await kernel.close();
  });

  it("status, start, stop and unregister of an unknown service are SERVICE_NOT_FOUND", async () => {
    const { kernel } = testKernel();
    expect(() => kernel.status("nope")).toThrow(ServiceNotFoundError);
    await expect(kernel.start("nope")).rejects.toMatchObject({ code: "SERVICE_NOT_FOUND", service: "nope" });
    await expect(kernel.stop("nope")).rejects.toMatchObject({ code: "SERVICE_NOT_FOUND" });
    await expect(kernel.unregister("nope")).rejects.toMatchObject({ code: "SERVICE_NOT_FOUND" });
    await expect(kernel.unregister("../x")).rejects.toMatchObject({ code: "INVALID_NAME" });
    await kernel.close();
  });
});

describe("kernel options and close", () => {
  it("refuses nonsense options", () => {
    expect(() => new Kernel({ checkpointIntervalMs: -1, logger: captureLogger().logger })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new Kernel({ startTimeoutMs: "5s" as never, logger: captureLogger().logger })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new Kernel({ queueCapacity: 0, logger: captureLogger().logger })).toThrow(InvalidArgumentError);
    expect(() => new Kernel(null as never)).toThrow(InvalidArgumentError);
  });

  it("after close, operations reject with KERNEL_CLOSED; reads still work; close is idempotent", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "a" });
    await kernel.close();
    await kernel.close();
    for (const op of [
      () => kernel.register({ name: "b" }),
      () => kernel.start("a"),
      () => kernel.stop("a"),
      () => kernel.startAll(),
      () => kernel.stopAll(),
      () => kernel.unregister("a"),
      () => kernel.checkpoint(),
      () => kernel.send({ to: "a", from: "t", type: "x" }),
      () => kernel.push({ to: "a", from: "t", type: "x" }),
    ]) {
      await expect(op()).rejects.toBeInstanceOf(KernelClosedError);
    }
    expect(kernel.status("a")).toBe("created");
    expect(kernel.services()).toHaveLength(1);
  });

  it("close({ stopAll: true }) stops every service first", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "a" });
    await kernel.register({ name: "b", dependencies: ["a"] });
    await kernel.startAll();
    await kernel.close({ stopAll: true });
    expect(kernel.services().map((s) => s.status)).toEqual(["stopped", "stopped"]);
  });
});

describe("register: per-service deadlines", () => {
  it("refuses a negative or non-numeric startTimeoutMs/stopTimeoutMs", async () => {
    const { kernel } = testKernel();
    await expect(kernel.register({ name: "a", startTimeoutMs: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(kernel.register({ name: "a", stopTimeoutMs: "1s" as never })).rejects.toThrow(/stopTimeoutMs/);
    expect(kernel.services()).toEqual([]);
    await kernel.register({ name: "a", startTimeoutMs: 0 });
    await kernel.close();
  });
});

describe("garbage at every lifecycle entry point", () => {
  it("answers with typed errors and changes nothing", async () => {
    const { kernel } = testKernel();
    await kernel.register({ name: "a" });
    for (const bad of [42, null, undefined, "", "../a", {}]) {
      await expect(kernel.start(bad as never)).rejects.toMatchObject({ code: "INVALID_NAME" });
      await expect(kernel.stop(bad as never)).rejects.toMatchObject({ code: "INVALID_NAME" });
      await expect(kernel.unregister(bad as never)).rejects.toMatchObject({ code: "INVALID_NAME" });
      expect(() => kernel.status(bad as never)).toThrow(InvalidNameError);
    }
    await expect(kernel.stop("a", null as never)).rejects.toThrow(InvalidArgumentError);
    await expect(kernel.stop("a", { force: "yes" } as never)).rejects.toThrow(/force/);
    await expect(kernel.stopAll("all" as never)).rejects.toThrow(InvalidArgumentError);
    expect(() => kernel.on("status", "listener" as never)).toThrow(InvalidArgumentError);
    expect(() => kernel.enableShutdownHooks("SIGTERM" as never)).toThrow(InvalidArgumentError);
    expect(() => kernel.enableShutdownHooks(["TERM" as never])).toThrow(InvalidArgumentError);
    await expect(kernel.close(null as never)).rejects.toThrow(InvalidArgumentError);
    expect(kernel.services()).toMatchObject([{ name: "a", status: "created" }]);
    await kernel.close();
  });
});
