import { describe, expectTypeOf, it } from "vitest";
import { createLogger, fileSink, httpSink, jsonSink, textSink } from "./index.ts";
import type { Level, LogRecord, Logger, ManagedLogger, Sink } from "./index.ts";

describe("public types", () => {
  it("a Logger needs only the six contract members (users can adapt their own)", () => {
    const minimal = {
      debug: (_msg: string, ..._args: unknown[]) => undefined,
      info: (_msg: string, ..._args: unknown[]) => undefined,
      warn: (_msg: string, ..._args: unknown[]) => undefined,
      error: (_msg: string, ..._args: unknown[]) => undefined,
      child: (_service: string): Logger => minimal,
      level: "info" as Level,
    };
    expectTypeOf(minimal).toMatchTypeOf<Logger>();
  });

  it("createLogger returns a ManagedLogger whose children are managed too", () => {
    const log = createLogger();
    expectTypeOf(log).toEqualTypeOf<ManagedLogger>();
    expectTypeOf(log.child("x")).toEqualTypeOf<ManagedLogger>();
    expectTypeOf(log).toMatchTypeOf<Logger>();
    expectTypeOf(log.flush()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(log.level).toEqualTypeOf<Level>();
  });

  it("any plain function of a record is a Sink, and so are the factories' results", () => {
    expectTypeOf((_r: LogRecord) => undefined).toMatchTypeOf<Sink>();
    expectTypeOf(textSink()).toMatchTypeOf<Sink>();
    expectTypeOf(jsonSink(2)).toMatchTypeOf<Sink>();
    expectTypeOf(fileSink).returns.toMatchTypeOf<Sink>();
    expectTypeOf(httpSink).returns.toMatchTypeOf<Sink>();
    expectTypeOf(httpSink).returns.toHaveProperty("stats");
  });

  it("levels are checked at compile time", () => {
    // @ts-expect-error not a level
    createLogger({ level: "verbose" });
    const log = createLogger();
    // @ts-expect-error not a level
    log.level = "verbose";
    log.level = "trace";
    log.level = "fatal";
  });

  it("an adapter written before trace/fatal (four levels, no trace/fatal methods) is still a Logger", () => {
    const old = {
      debug: (_msg: string, ..._args: unknown[]) => undefined,
      info: (_msg: string, ..._args: unknown[]) => undefined,
      warn: (_msg: string, ..._args: unknown[]) => undefined,
      error: (_msg: string, ..._args: unknown[]) => undefined,
      child: (_service: string): Logger => old,
      level: "info" as "debug" | "info" | "warn" | "error",
    };
    expectTypeOf(old).toMatchTypeOf<Logger>();
  });

  it("a ManagedLogger takes pino's error-first call and has trace and fatal", () => {
    const log = createLogger();
    const err = new Error("boom");
    log.error(err);
    log.error(err, "save of %s failed", "echo");
    log.error("save failed", err);
    log.trace("t");
    log.fatal(err, "f");
    // @ts-expect-error the error-first form takes a string message second
    log.error(err, 42);
  });
});
