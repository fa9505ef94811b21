// mk's JSON lines beside real pino's for the same calls, and real pino-pretty reading them
// (issue 13 item 16: the JSON sink claims pino's field names, so it must read as pino).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pino } from "pino";
import { prettyFactory } from "pino-pretty";
import { describe, expect, it } from "vitest";
import { createLogger, InvalidArgumentError, jsonSink, type ManagedLogger } from "../src/index.ts";

function collector(): { stream: { write(s: string): void }; lines: string[] } {
  const lines: string[] = [];
  return { stream: { write: (s: string) => lines.push(...s.split("\n").filter((l) => l !== "")) }, lines };
}

/** The same calls through mk (child "echo") and pino (child bound to service "echo"), both at trace. */
function both(calls: (mk: ManagedLogger, p: pino.Logger) => void): { mk: string[]; pino: string[] } {
  const m = collector();
  const p = collector();
  const mk = createLogger({ service: "root", level: "trace", sinks: [jsonSink(m.stream)] }).child("echo");
  const pl = pino({ level: "trace" }, p.stream).child({ service: "echo" });
  calls(mk, pl);
  return { mk: m.lines, pino: p.lines };
}

/** A line with its time set to 0: the only field two loggers cannot agree on. */
function timeless(line: string): string {
  return line.replace(/^\{"level":(\d+),"time":\d+,/, '{"level":$1,"time":0,');
}

function diskFull(): Error {
  const err = new Error("save failed", { cause: new Error("disk full", { cause: new Error("ENOSPC") }) });
  return Object.assign(err, { code: "E_SAVE", path: "/var/lib/app/echo.state" });
}

describe("mk's JSON lines are pino's lines", () => {
  it("regression: trace and fatal, pid and hostname, err with causes: byte for byte pino's (time aside)", () => {
    const err = diskFull();
    const aggregate = new AggregateError([new Error("a"), new RangeError("b")], "two failed");
    const { mk, pino: expected } = both((m, p) => {
      m.trace("tick %d", 1);
      p.trace("tick %d", 1);
      m.info("count is %d", 10, { reqId: 7 });
      p.info({ reqId: 7 }, "count is %d", 10);
      m.error(err, "saving %s", "echo");
      p.error(err, "saving %s", "echo");
      m.error(err);
      p.error(err);
      m.fatal(aggregate);
      p.fatal(aggregate);
    });
    expect(mk).toHaveLength(5);
    expect(mk.map(timeless)).toEqual(expected.map(timeless));
  });

  it('log.error("save failed", err) gives the line pino gives for its own form, log.error(err, "save failed")', () => {
    const err = diskFull();
    const { mk, pino: expected } = both((m, p) => {
      m.error("save failed", err);
      p.error(err, "save failed");
    });
    expect(mk.map(timeless)).toEqual(expected.map(timeless));
    const record = JSON.parse(mk[0] ?? "") as { err: { message: string; stack: string; code: string } };
    expect(record.err.message).toBe("save failed: disk full: ENOSPC");
    expect(record.err.stack).toContain("\ncaused by: Error: disk full\n");
    expect(record.err.stack).toContain("\ncaused by: Error: ENOSPC\n");
    expect(record.err.code).toBe("E_SAVE");
  });

  it("base: null drops pid and hostname as pino's base: null does", () => {
    const m = collector();
    const p = collector();
    createLogger({ sinks: [jsonSink(m.stream, { base: null })] })
      .child("echo")
      .warn("w");
    pino({ base: null }, p.stream).child({ service: "echo" }).warn("w");
    expect(m.lines.map(timeless)).toEqual(p.lines.map(timeless));
  });

  it("refuses a base that is not a plain object or null", () => {
    for (const base of [5, "x", [1], new Map()]) {
      expect(() => jsonSink(undefined, { base: base as never })).toThrow(InvalidArgumentError);
    }
  });
});

describe("pino-pretty reads mk's lines", () => {
  it("prints each mk line exactly as it prints pino's line for the same call", () => {
    const err = diskFull();
    const { mk, pino: expected } = both((m, p) => {
      m.trace("t");
      p.trace("t");
      m.error(err, "saving %s", "echo");
      p.error(err, "saving %s", "echo");
      m.fatal("down", { reqId: 7 });
      p.fatal({ reqId: 7 }, "down");
    });
    const pretty = prettyFactory({ colorize: false });
    const mine = mk.map((line) => pretty(timeless(line)));
    expect(mine).toEqual(expected.map((line) => pretty(timeless(line))));
    expect(mine[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] TRACE \(\d+\): t\n {4}service: "echo"\n$/);
    expect(mine[1]).toContain("ERROR");
    expect(mine[1]).toContain("caused by: Error: disk full");
    expect(mine[2]).toContain("FATAL");
  });

  it("the pino-pretty command reads a stream of mk lines", () => {
    const m = collector();
    const log = createLogger({ service: "kernel", level: "trace", sinks: [jsonSink(m.stream)] });
    log.info("started %d services", 3);
    log.error("handler failed", new Error("boom"));
    log.trace("deep");
    const bin = join(dirname(createRequire(import.meta.url).resolve("pino-pretty")), "bin.js");
    const run = spawnSync(process.execPath, [bin, "--no-colorize"], {
      input: m.lines.join("\n") + "\n",
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/INFO \(\d+\): started 3 services/);
    expect(run.stdout).toMatch(/ERROR \(\d+\): handler failed\n/);
    expect(run.stdout).toMatch(
      /err: \{\n\s+"type": "Error",\n\s+"message": "boom",\n\s+"stack":\n\s+Error: boom\n\s+at /,
    );
    expect(run.stdout).toMatch(/TRACE \(\d+\): deep/);
  });
});
