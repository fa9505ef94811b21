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
    log.level = "trace";
  });
});
