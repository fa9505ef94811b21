import { format } from "node:util";
import { describe, expect, it } from "vitest";
import { InvalidLevelError, InvalidArgumentError } from "./errors.ts";
import { jsonSink } from "./json-sink.ts";
import { isLevel, LEVELS, levelValue } from "./levels.ts";
import { createLogger } from "./logger.ts";
import { textSink } from "./text-sink.ts";
import type { LogRecord, Sink } from "./types.ts";

function collect(): { sink: Sink; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { sink: (r) => records.push(r), records };
}

function lines(): { stream: { write(s: string): void }; out: string[] } {
  const out: string[] = [];
  return { stream: { write: (s: string) => out.push(s) }, out };
}

const LINE = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\] \[([^\]]*)\] (.*)\n$/s;

describe("createLogger", () => {
  it("writes the reference text line through textSink", () => {
    const { stream, out } = lines();
    const log = createLogger({ service: "echo", sinks: [textSink(stream)] });
    log.info("count is %d", 10);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(LINE);
    expect(out[0]?.slice(25)).toBe(" [INFO] [echo] count is 10\n");
  });

  it("defaults: service mk, level info", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    expect(log.service).toBe("mk");
    expect(log.level).toBe("info");
    log.debug("no");
    log.info("yes");
    expect(records.map((r) => [r.service, r.level, r.message])).toEqual([["mk", "info", "yes"]]);
    expect(typeof records[0]?.time).toBe("number");
  });

  it("filters below the level and passes at and above it", () => {
    const { sink, records } = collect();
    const log = createLogger({ level: "warn", sinks: [sink] });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(records.map((r) => r.level)).toEqual(["warn", "error"]);
    expect(log.isLevelEnabled("info")).toBe(false);
    expect(log.isLevelEnabled("error")).toBe(true);
  });

  it("does not format a filtered-out call", () => {
    const { sink } = collect();
    const log = createLogger({ level: "info", sinks: [sink] });
    let touched = 0;
    const costly = {
      [Symbol.for("nodejs.util.inspect.custom")]: () => (touched++, "x"),
      toString: () => (touched++, "x"),
    };
    log.debug("%s %o", costly, costly);
    expect(touched).toBe(0);
  });

  it("changes level at run time", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    log.debug("1");
    log.level = "debug";
    log.debug("2");
    log.level = "error";
    log.warn("3");
    log.error("4");
    expect(records.map((r) => r.message)).toEqual(["2", "4"]);
  });

  it("rejects a bad level with a typed error and keeps the old one", () => {
    const log = createLogger({ sinks: [] });
    expect(() => {
      (log as { level: unknown }).level = "verbose";
    }).toThrow(InvalidLevelError);
    expect(() => {
      (log as { level: unknown }).level = undefined;
    }).toThrow(/invalid log level undefined: expected "trace" \| "debug" \| "info" \| "warn" \| "error" \| "fatal"/);
    expect(log.level).toBe("info");
    expect(() => createLogger({ level: "INFO" as never })).toThrow(InvalidLevelError);
    expect(() => log.isLevelEnabled("x" as never)).toThrow(InvalidLevelError);
    expect(() => levelValue("x" as never)).toThrow(InvalidLevelError);
    expect(LEVELS.map((l) => levelValue(l))).toEqual([10, 20, 30, 40, 50, 60]);
    expect([isLevel("warn"), isLevel("WARN"), isLevel(30), isLevel(null)]).toEqual([true, false, false, false]);
  });

  it("rejects bad options with typed errors", () => {
    for (const bad of [
      () => createLogger("x" as never),
      () => createLogger({ service: "" }),
      () => createLogger({ service: 3 as never }),
      () => createLogger({ sinks: "stdout" as never }),
      () => createLogger({ sinks: [{} as never] }),
      () => createLogger({ onError: 1 as never }),
      () => createLogger({ sinks: [] }).child(""),
      () => createLogger({ sinks: [] }).child(undefined as never),
    ]) {
      expect(bad).toThrow(InvalidArgumentError);
    }
    try {
      createLogger({ service: "" });
    } catch (error) {
      expect((error as InvalidArgumentError).code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("children", () => {
  it("carry their service name and share the sinks", () => {
    const { sink, records } = collect();
    const root = createLogger({ service: "kernel", sinks: [sink] });
    root.child("echo").info("a");
    root.child("echo").child("deep").warn("b");
    root.info("c");
    expect(records.map((r) => `${r.service}:${r.message}`)).toEqual(["echo:a", "deep:b", "kernel:c"]);
  });

  it("follow the parent's level until their own is set, then again after resetLevel()", () => {
    const { sink, records } = collect();
    const root = createLogger({ service: "kernel", sinks: [sink] });
    const echo = root.child("echo");
    const grandchild = echo.child("echo.sub");
    const other = root.child("other");
    expect(echo.hasOwnLevel).toBe(false);

    root.level = "debug"; // global: every follower moves
    expect([echo.level, grandchild.level, other.level]).toEqual(["debug", "debug", "debug"]);

    echo.level = "error"; // one service: the grandchild follows echo, not the root
    expect(echo.hasOwnLevel).toBe(true);
    expect([root.level, echo.level, grandchild.level, other.level]).toEqual(["debug", "error", "error", "debug"]);

    root.level = "warn"; // echo is independent now
    expect([echo.level, grandchild.level, other.level]).toEqual(["error", "error", "warn"]);
    echo.warn("dropped");
    grandchild.warn("dropped");
    other.warn("kept");

    echo.resetLevel();
    expect(echo.hasOwnLevel).toBe(false);
    expect([echo.level, grandchild.level]).toEqual(["warn", "warn"]);
    echo.warn("kept again");
    expect(records.map((r) => r.message)).toEqual(["kept", "kept again"]);

    root.resetLevel(); // a root has no parent: no-op
    expect(root.level).toBe("warn");
  });

  it("do not affect the parent or siblings when their level changes", () => {
    const root = createLogger({ sinks: [] });
    const a = root.child("a");
    const b = root.child("b");
    a.level = "debug";
    expect([root.level, a.level, b.level]).toEqual(["info", "debug", "info"]);
  });
});

describe("message and fields", () => {
  it("applies printf arguments like util.format", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    const calls: [string, ...unknown[]][] = [
      ["%s is %d years", "Bob", 42],
      ["%i %f %j %%", 3.9, 1.5, [1]],
      ["%o", [1, { a: 2 }]],
      ["no specifiers", "extra", 1],
      ["50%"],
    ];
    for (const [msg, ...args] of calls) log.info(msg, ...args);
    expect(records.map((r) => r.message)).toEqual(calls.map(([msg, ...args]) => format(msg, ...args)));
    expect(records.every((r) => r.fields === undefined)).toBe(true);
  });

  it("takes a trailing plain object that no specifier consumes as fields", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    log.info("user %s logged in", "bob", { reqId: 7 });
    log.info("no args", { a: 1 });
    log.info("consumed %o", { a: 1 }); // the specifier takes it: not fields
    log.info("%j", { a: 1 }, { b: 2 }); // the second one is left over: fields
    log.info("array is not fields", [1]);
    log.info("class instance is not fields", new Date(0));
    expect(records.map((r) => [r.message, r.fields])).toEqual([
      ["user bob logged in", { reqId: 7 }],
      ["no args", { a: 1 }],
      ["consumed { a: 1 }", undefined],
      ['{"a":1}', { b: 2 }],
      ["array is not fields [ 1 ]", undefined],
      [format("class instance is not fields", new Date(0)), undefined],
    ]);
  });

  it("never throws for garbage messages and arguments", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    const hostile = {
      [Symbol.for("nodejs.util.inspect.custom")]: () => {
        throw new Error("inspect bomb");
      },
    };
    expect(() => {
      log.info(undefined as never);
      log.info({ a: 1 } as never);
      log.info(42 as never, "x");
      log.info("%i", Object.create(null));
      log.info("%o", hostile);
      log.info(null as never, hostile);
    }).not.toThrow();
    expect(records.map((r) => typeof r.message)).toEqual(Array(6).fill("string"));
    expect(records[0]?.message).toBe("undefined");
    expect(records[3]?.message).toMatch(/^\[unformattable message: /);
  });
});

describe("log injection through the logger (issue 13 item 11)", () => {
  it("regression: a caller's newline cannot forge a [INFO] [kernel] line, in the message, a %s argument or a child's name", () => {
    const { stream, out } = lines();
    const log = createLogger({ service: "kernel", sinks: [textSink(stream)] });
    const forged = "[2026-11-25 10:10:04.783] [INFO] [kernel] all services healthy";
    // What the kernel does with an event type it got from a caller:
    log.warn('service %s failed to handle "%s": %s', "echo", `ping\n${forged}`, "boom");
    log.child(`evil\n${forged}`).info("hello");
    log.child("echo").error(`\u001b[2Jcleared\r${forged}`);
    const text = out.join("");
    expect(out).toHaveLength(3);
    expect(text.split("\n")).toHaveLength(4); // three lines and the empty rest after the last "\n"
    for (const line of out) {
      expect(line).toMatch(LINE);
      expect(line.indexOf("\n")).toBe(line.length - 1);
    }
    // Each line's own header is the real one: nobody logged at INFO as the kernel.
    expect(out.map((line) => LINE.exec(line)?.[1])).toEqual(["WARN", "INFO", "ERROR"]);
    expect(out[1]?.slice(25)).toBe(` [INFO] [evil\\n${forged}] hello\n`);
    expect(out[0]).toContain(`ping\\n${forged}`);
    expect(out[2]).toContain("\\u001b[2Jcleared\\r[");
  });
});

describe("trace and fatal, pino's levels 10 and 60 (issue 13 item 16)", () => {
  it("regression: a logger has trace() and fatal(), filtered like the others", () => {
    const { sink, records } = collect();
    const log = createLogger({ level: "trace", sinks: [sink] });
    log.trace("t %d", 1);
    log.debug("d");
    log.fatal("f");
    expect(records.map((r) => [r.level, r.message])).toEqual([
      ["trace", "t 1"],
      ["debug", "d"],
      ["fatal", "f"],
    ]);
    log.level = "fatal";
    log.error("no");
    log.fatal("yes");
    expect(records.at(-1)?.message).toBe("yes");
    expect(records).toHaveLength(4);
    expect([log.isLevelEnabled("error"), log.isLevelEnabled("fatal"), log.isLevelEnabled("trace")]).toEqual([
      false,
      true,
      false,
    ]);
    log.level = "info";
    log.trace("filtered");
    expect(records).toHaveLength(4);
  });

  it("writes TRACE and FATAL text lines and pino's numbers 10 and 60 in JSON", () => {
    const text = lines();
    const json = lines();
    const log = createLogger({
      service: "s",
      level: "trace",
      sinks: [textSink(text.stream), jsonSink(json.stream, { base: null })],
    });
    log.trace("t");
    log.fatal("f");
    expect(text.out.map((l) => LINE.exec(l)?.[1])).toEqual(["TRACE", "FATAL"]);
    expect(json.out.map((l) => (JSON.parse(l) as { level: number }).level)).toEqual([10, 60]);
  });

  it("a child follows a trace-level parent and a sink level of fatal keeps only fatal", () => {
    const all = collect();
    const fatalOnly = lines();
    const log = createLogger({ level: "trace", sinks: [all.sink, textSink(fatalOnly.stream, { level: "fatal" })] });
    const child = log.child("c");
    expect(child.level).toBe("trace");
    child.trace("t");
    child.error("e");
    child.fatal("f");
    expect(all.records).toHaveLength(3);
    expect(fatalOnly.out).toHaveLength(1);
  });
});

describe("an Error in a log call becomes the record's err (issue 13 item 16)", () => {
  it('regression: log.error("save failed", err) put the stack into the message; now err is a field', () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    const err = new Error("disk full");
    log.error("save failed", err);
    expect(records[0]?.message).toBe("save failed");
    expect(records[0]?.fields).toEqual({ err });
  });

  it("after the printf arguments and before a trailing fields object", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    const err = new TypeError("bad");
    log.error("save of %s failed", "echo", err, { reqId: 7 });
    expect(records[0]?.message).toBe("save of echo failed");
    expect(records[0]?.fields).toEqual({ reqId: 7, err });
  });

  it("pino's form: log.error(err), log.error(err, msg, ...args), log.warn(err, msg, fields)", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    const err = new Error("boom", { cause: new Error("root") });
    log.error(err);
    log.error(err, "saving %s", "echo");
    log.warn(err, "with fields", { reqId: 1 });
    expect(records.map((r) => [r.level, r.message, r.fields])).toEqual([
      ["error", "boom", { err }],
      ["error", "saving echo", { err }],
      ["warn", "with fields", { reqId: 1, err }],
    ]);
  });

  it("an Error a specifier consumes stays in the message (util.format's rules), and a field named err wins", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    const err = new Error("x");
    log.error("failed: %s", err);
    expect(records[0]?.message).toBe(format("failed: %s", err));
    expect(records[0]?.fields).toBeUndefined();
    log.error("both", err, { err: "mine" });
    expect(records[1]?.fields).toEqual({ err: "mine" });
  });

  it("an Error from another realm counts too (a worker's or a vm context's)", async () => {
    const { runInNewContext } = await import("node:vm");
    const foreign = runInNewContext('new Error("from vm")') as Error;
    expect(foreign instanceof Error).toBe(false);
    const { sink, records } = collect();
    createLogger({ sinks: [sink] }).error("failed", foreign);
    expect(records[0]?.fields).toEqual({ err: foreign });
  });

  it("the text sink writes err with its stack on the same one line", () => {
    const { stream, out } = lines();
    const log = createLogger({ service: "kernel", sinks: [textSink(stream)] });
    log.error("handler failed", new Error("boom", { cause: new Error("root") }));
    expect(out).toHaveLength(1);
    expect(out[0]?.indexOf("\n")).toBe((out[0]?.length ?? 0) - 1);
    const json = out[0]?.slice(out[0].indexOf(" {")).trim() ?? "";
    const parsed = JSON.parse(json) as { err: { type: string; message: string; stack: string } };
    expect(parsed.err.type).toBe("Error");
    expect(parsed.err.message).toBe("boom: root");
    expect(parsed.err.stack).toMatch(/^Error: boom\n {4}at .*\ncaused by: Error: root\n/s);
  });

  it("never throws for hostile errors", () => {
    const { sink, records } = collect();
    const log = createLogger({ sinks: [sink] });
    const hostile = new Error("h");
    Object.defineProperty(hostile, "message", {
      get() {
        throw new Error("getter");
      },
    });
    expect(() => log.error(hostile)).not.toThrow();
    expect(() => log.error("x", hostile)).not.toThrow();
    expect(records).toHaveLength(2);
    // A Proxy whose prototype trap throws is not taken for an Error, and the message survives.
    const trap = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error("trap");
        },
      },
    );
    log.error("proxy", trap);
    expect(records[2]?.message).toMatch(/^proxy /);
    expect(records[2]?.fields).toBeUndefined();
    const out = lines();
    const j = createLogger({ sinks: [jsonSink(out.stream, { base: null })] });
    j.error("x", hostile);
    expect((JSON.parse(out.out[0] ?? "") as { err: string }).err).toMatch(/^\[unserializable: getter\]$/);
  });
});

describe("failing sinks", () => {
  it("a throwing sink does not reach the caller, does not stop the others, and is counted", () => {
    const { sink, records } = collect();
    const seen: unknown[] = [];
    const bad: Sink = () => {
      throw new Error("sink down");
    };
    const log = createLogger({
      sinks: [bad, sink, bad],
      onError: (error, s) => seen.push([(error as Error).message, s === bad]),
    });
    const child = log.child("svc");
    expect(() => {
      log.info("one");
      child.warn("two");
    }).not.toThrow();
    expect(records.map((r) => r.message)).toEqual(["one", "two"]);
    expect(log.stats()).toEqual({ records: 2, sinkErrors: 4, dropped: 0 });
    expect(child.stats()).toEqual(log.stats());
    expect(seen).toEqual([
      ["sink down", true],
      ["sink down", true],
      ["sink down", true],
      ["sink down", true],
    ]);
  });

  it("a throwing onError is ignored", () => {
    const log = createLogger({
      sinks: [
        () => {
          throw new Error("x");
        },
      ],
      onError: () => {
        throw new Error("y");
      },
    });
    expect(() => log.info("m")).not.toThrow();
    expect(log.stats().sinkErrors).toBe(1);
  });

  it("a stream whose write throws is counted by the sink and reported", () => {
    const errors: Error[] = [];
    const stream = {
      write(): void {
        throw new Error("EPIPE-ish");
      },
    };
    const log = createLogger({ sinks: [textSink(stream, { onError: (e) => errors.push(e) }), jsonSink(stream)] });
    expect(() => log.error("m")).not.toThrow();
    expect(log.stats()).toEqual({ records: 1, sinkErrors: 2, dropped: 2 });
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error & { code: string }).code).toBe("SINK_WRITE");
  });

  it("flush and close call every sink, never reject, and count failures", async () => {
    const calls: string[] = [];
    const good: Sink = Object.assign(() => undefined, {
      flush: () => {
        calls.push("flush");
      },
      close: async () => {
        calls.push("close");
      },
    });
    const bad: Sink = Object.assign(() => undefined, {
      flush: () => {
        throw new Error("f");
      },
      close: () => Promise.reject(new Error("c")),
    });
    const { sink, records } = collect();
    const log = createLogger({ sinks: [bad, good, sink] });
    await expect(log.flush()).resolves.toBeUndefined();
    await expect(log.close()).resolves.toBeUndefined();
    await expect(log.close()).resolves.toBeUndefined(); // idempotent
    expect(calls).toEqual(["flush", "close"]);
    expect(log.stats().sinkErrors).toBe(2);
    log.info("after close");
    expect(records).toHaveLength(0);
    expect(log.stats().dropped).toBe(1);
  });
});

describe("buffered stream sinks", () => {
  it("write one chunk per tick with buffered: true, and on flush()", async () => {
    const { stream, out } = lines();
    const log = createLogger({ service: "s", sinks: [jsonSink(stream, { buffered: true })] });
    log.info("a");
    log.info("b");
    expect(out).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toHaveLength(1);
    expect(
      out[0]
        ?.split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(["a", "b"]);
    log.info("c");
    await log.flush();
    expect(out).toHaveLength(2);
  });

  it("rejects bad sink arguments with typed errors", () => {
    expect(() => textSink({} as never)).toThrow(InvalidArgumentError);
    expect(() => textSink(-1)).toThrow(InvalidArgumentError);
    expect(() => jsonSink(undefined, { buffered: "yes" as never })).toThrow(InvalidArgumentError);
    expect(() => jsonSink(undefined, { onError: 1 as never })).toThrow(InvalidArgumentError);
  });

  it("a sink called directly with garbage does not throw and counts it", () => {
    const { stream } = lines();
    const sink = textSink(stream);
    expect(() => sink(null as never)).not.toThrow();
    expect(sink.stats?.()).toEqual({ errors: 1, dropped: 1 });
  });
});

describe("feedback loops", () => {
  it("an onError that logs through the failing logger ends, and the loop's records are counted as dropped", () => {
    const { sink, records } = collect();
    let calls = 0;
    const failing: Sink = () => {
      throw new Error("down");
    };
    const log = createLogger({
      sinks: [failing, sink],
      onError: (error) => {
        calls++;
        log.error("sink failed: %s", (error as Error).message);
      },
    });
    expect(() => log.info("start")).not.toThrow();
    // start → (fails) → "sink failed" ×3 nested, the 4th nested one is dropped.
    expect(records.map((r) => r.message)).toEqual([
      "sink failed: down",
      "sink failed: down",
      "sink failed: down",
      "start",
    ]);
    expect(calls).toBe(4);
    expect(log.stats()).toMatchObject({ records: 4, sinkErrors: 4, dropped: 1 });
    log.info("again"); // the depth is back to 0
    expect(records.at(-1)?.message).toBe("again");
  });
});

describe("per-sink level", () => {
  it("a sink writes only records at or above its own level, on top of the logger's", () => {
    const quiet = lines();
    const verbose = lines();
    const log = createLogger({
      level: "debug",
      sinks: [textSink(quiet.stream, { level: "warn" }), jsonSink(verbose.stream)],
    });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(quiet.out.map((l) => l.replace(/^\[.{23}\] /, ""))).toEqual(["[WARN] [mk] w\n", "[ERROR] [mk] e\n"]);
    expect(verbose.out.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["d", "i", "w", "e"]);
    expect(log.stats()).toEqual({ records: 4, sinkErrors: 0, dropped: 0 }); // skipped is not dropped
  });

  it("rejects a bad sink level with InvalidLevelError", () => {
    expect(() => textSink(undefined, { level: "loud" as never })).toThrow(InvalidLevelError);
    expect(() => jsonSink(undefined, { level: 30 as never })).toThrow(InvalidLevelError);
  });
});
