import type { Event, OutgoingEvent, Reply, ServiceContext } from "@mk/core";
import type { Level, Logger } from "@mk/logger";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readEchoCount } from "../src/services/echo-state.ts";
import { ECHO_V1_STEP, EchoV1 } from "../src/services/echo-v1.ts";
import { ECHO_V2_STEP, EchoV2 } from "../src/services/echo-v2.ts";
import { LoggerService } from "../src/services/logger-service.ts";

/** A logger that keeps its lines, so tests can read what a service said. */
function memoryLogger(lines: string[], service = "test"): Logger {
  const write =
    (level: Level) =>
    (msg: string, ...args: unknown[]): void => {
      let i = 0;
      lines.push(`[${level}] [${service}] ${msg.replace(/%[sdjo]/g, () => String(args[i++]))}`);
    };
  const logger: Logger = {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (name: string) => memoryLogger(lines, name),
    level: "debug",
    service,
    hasOwnLevel: true,
    resetLevel: () => undefined,
    isLevelEnabled: () => true,
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ records: lines.length, sinkErrors: 0, dropped: 0 }),
  };
  return logger;
}

/** A context whose push/send answer like the kernel would for the reference scenario. */
function context(lines: string[], route: (event: Event) => Reply): ServiceContext & { sent: Event[] } {
  const sent: Event[] = [];
  const deliver = (event: OutgoingEvent): Promise<Reply> => {
    const full: Event = { ...event, from: event.from ?? "logger" };
    sent.push(full);
    return Promise.resolve(route(full));
  };
  return {
    name: "test",
    logger: memoryLogger(lines),
    signal: new AbortController().signal,
    send: deliver,
    push: deliver,
    fail: () => undefined,
    checkpoint: () => Promise.resolve(),
    sent,
  };
}

const event = (content: string): Event => ({ to: "echo", from: "kernel", type: "log", content });

describe("EchoV1", () => {
  it("answers like the reference's v1 and counts one per message", () => {
    const echo = new EchoV1();
    expect(echo.handle(event("Hello, Log!"))).toEqual({
      code: 0,
      message: "echo service handled",
      data: "from kernel: Hello, Log!",
    });
    echo.handle(event("again"));
    expect(echo.count).toBe(2 * ECHO_V1_STEP);
    expect(echo.exportState()).toBe(2);
  });

  it("imports the reference's bare number and v2's { count }, remembering where it came from", () => {
    const echo = new EchoV1();
    expect(echo.imported).toBeUndefined();
    echo.importState(3, {});
    expect(echo.count).toBe(3);
    expect(echo.imported).toEqual({ count: 3 });
    echo.importState({ count: 10 }, { fromVersion: "2.0.0" });
    expect(echo.imported).toEqual({ count: 10, fromVersion: "2.0.0" });
    echo.handle(event("x"));
    expect(echo.exportState()).toBe(11);
  });

  it("refuses state that is not a count, and keeps its own", () => {
    const echo = new EchoV1();
    echo.importState(5, {});
    for (const bad of [
      -1,
      1.5,
      "3",
      null,
      undefined,
      {},
      { count: "3" },
      [3],
      Number.MAX_SAFE_INTEGER + 1,
      Number.NaN,
    ]) {
      expect(() => echo.importState(bad, {}), JSON.stringify(bad)).toThrow(/echo state: expected/);
    }
    expect(echo.count).toBe(5);
  });
});

describe("EchoV2", () => {
  it("continues v1's counter, adds 8 per message and logs count is N (the reference's 2 + 8 = 10)", () => {
    const v1 = new EchoV1();
    v1.handle(event("Hello, Echo!"));
    v1.handle(event("Hello, Log!"));
    const v2 = new EchoV2();
    v2.importState(v1.exportState(), { fromVersion: v1.version });
    expect(v2.imported).toEqual({ count: 2, fromVersion: "1.0.0" });
    const lines: string[] = [];
    const reply = v2.handle(
      event("Hello, Log!"),
      context(lines, () => ({ code: 0, message: "" })),
    );
    expect(reply).toEqual({ code: 0, message: "echo v2 service handled", data: "from kernel: Hello, Log!" });
    expect(v2.count).toBe(2 + ECHO_V2_STEP);
    expect(lines).toEqual(["[info] [test] count is 10"]);
    expect(v2.exportState()).toEqual({ count: 10 });
  });

  it("round-trips its state through JSON into v1 and back (what a store does between runs)", () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.nat({ max: 20 }), (start, messages) => {
        const v2 = new EchoV2();
        v2.importState(start, {});
        const ctx = context([], () => ({ code: 0, message: "" }));
        for (let i = 0; i < messages; i++) v2.handle(event("m"), ctx);
        const v1 = new EchoV1();
        v1.importState(JSON.parse(JSON.stringify(v2.exportState())), { fromVersion: v2.version });
        expect(v1.count).toBe(start + messages * ECHO_V2_STEP);
        const again = new EchoV2();
        again.importState(JSON.parse(JSON.stringify(v1.exportState())), { fromVersion: v1.version });
        expect(again.count).toBe(v1.count);
      }),
    );
  });
});

describe("readEchoCount", () => {
  it("accepts exactly the non-negative safe integers, bare or as { count }", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const count = typeof value === "object" && value !== null && "count" in value ? value.count : value;
        const valid = typeof count === "number" && Number.isSafeInteger(count) && count >= 0;
        if (valid) expect(readEchoCount(value)).toBe(count);
        else expect(() => readEchoCount(value)).toThrow(TypeError);
      }),
    );
  });
});

describe("LoggerService", () => {
  it("logs its lines, pushing them alternately to the kernel and to echo, and logs each reply", async () => {
    const lines: string[] = [];
    const ctx = context(lines, (e) =>
      e.to === undefined
        ? { code: 0, message: "Handled by kernel", data: "ok" }
        : { code: 0, message: "echo service handled", data: `from ${e.from}: ${String(e.content)}` },
    );
    const service = new LoggerService();
    expect(service.dependencies).toEqual(["echo"]);
    service.start(ctx);
    await service.done();
    expect(ctx.sent.map((e) => [e.to, e.from, e.content])).toEqual([
      [undefined, "logger", "Hello, Microkernel!"],
      ["echo", "logger", "Hello, Echo!"],
    ]);
    expect(lines).toEqual([
      "[info] [test] starting... (0 lines logged so far)",
      "[info] [test] LOG: Hello, Microkernel!",
      "[info] [test] got reply from kernel: code 0, Handled by kernel (ok)",
      "[info] [test] LOG: Hello, Echo!",
      "[info] [test] got reply from echo: code 0, echo service handled (from logger: Hello, Echo!)",
    ]);
    expect(service.exportState()).toEqual({ lines: 2 });
  });

  it("continues its line count from saved state and refuses garbage", () => {
    const service = new LoggerService();
    service.importState({ lines: 4 });
    expect(service.imported).toBe(4);
    expect(service.logged).toBe(4);
    for (const bad of [4, { lines: -1 }, { lines: "4" }, null])
      expect(() => service.importState(bad)).toThrow(/logger state/);
    expect(service.logged).toBe(4);
  });

  it("reports a failed push from done() instead of an unhandled rejection", async () => {
    const service = new LoggerService();
    const ctx = context([], () => {
      throw new Error("queue gone");
    });
    service.start(ctx);
    await expect(service.done()).rejects.toThrow("queue gone");
  });
});
