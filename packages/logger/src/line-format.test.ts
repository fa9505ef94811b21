import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostname } from "node:os";
import { escapeControls, jsonBase, jsonLine, textLine } from "./line-format.ts";
import { formatTimestamp, stampOf } from "./timestamp.ts";
import type { Level } from "./types.ts";

const levels: Level[] = ["trace", "debug", "info", "warn", "error", "fatal"];

// Thousands of generated cases, all synchronous: the time they take scales with
// how busy the machine is (a JSON-line run took over 20 s, the default limit, on
// a loaded 2-core box). A generous limit keeps them from failing on a slow
// machine; what they check is unchanged.
const CPU_BOUND = { timeout: 120_000 };

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

// The slow, obvious way: what the per-second cache must agree with.
function reference(t: number): string {
  const d = new Date(t);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Years 0..9999 in local time, whatever the machine's zone.
const anyTime = fc.integer({ min: -62_135_596_800_000 + 86_400_000, max: 253_402_300_799_999 - 86_400_000 });

describe("timestamps", () => {
  it("formats local time as YYYY-MM-DD HH:mm:ss.SSS", () => {
    const t = new Date(2025, 3, 26, 19, 47, 0, 801).getTime();
    expect(stampOf(t)).toBe("2025-04-26 19:47:00.801");
    expect(stampOf(t + 199)).toBe("2025-04-26 19:47:01.000");
    expect(stampOf(t - 801)).toBe("2025-04-26 19:47:00.000");
  });

  it("agrees with Date getters and is always 23 characters (property)", CPU_BOUND, () => {
    fc.assert(
      fc.property(anyTime, fc.integer({ min: 0, max: 2500 }), (t, step) => {
        // Consecutive calls exercise the per-second cache (hits and misses).
        for (const time of [t, t + step, t + step + 1]) {
          const s = stampOf(time);
          expect(s).toHaveLength(23);
          expect(s).toBe(reference(time));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts a Date and keeps 23 characters for an invalid time", () => {
    const d = new Date(2024, 0, 2, 3, 4, 5, 6);
    expect(formatTimestamp(d)).toBe("2024-01-02 03:04:05.006");
    expect(formatTimestamp(Number.NaN)).toHaveLength(23);
    expect(formatTimestamp(new Date(Number.NaN))).toHaveLength(23);
    expect(formatTimestamp(1e300)).toHaveLength(23);
    expect(formatTimestamp(1.7)).toBe(reference(1));
    expect(formatTimestamp(-1.5)).toBe(reference(new Date(-1.5).getTime()));
    for (const garbage of ["2024", null, undefined, {}, Number.POSITIVE_INFINITY, 10n]) {
      expect(formatTimestamp(garbage as never)).toBe("????-??-?? ??:??:??.???");
    }
  });
});

describe("text line", () => {
  it("is the reference layout", () => {
    const time = new Date(2025, 3, 26, 19, 47, 0, 801).getTime();
    expect(textLine({ time, level: "info", service: "echo", message: "count is 10" })).toBe(
      "[2025-04-26 19:47:00.801] [INFO] [echo] count is 10\n",
    );
    expect(textLine({ time, level: "warn", service: "k", message: "m", fields: { a: 1, b: "x" } })).toBe(
      '[2025-04-26 19:47:00.801] [WARN] [k] m {"a":1,"b":"x"}\n',
    );
    expect(textLine({ time, level: "error", service: "k", message: "m", fields: {} })).toBe(
      "[2025-04-26 19:47:00.801] [ERROR] [k] m\n",
    );
  });

  it("round-trips any message, service, level and time into the layout (property)", CPU_BOUND, () => {
    const layout = /^\[(.{23})\] \[(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\] \[/s;
    fc.assert(
      fc.property(
        anyTime,
        fc.constantFrom(...levels),
        fc.string({ minLength: 1 }),
        fc.string({ unit: "grapheme" }),
        (time, level, service, message) => {
          const line = textLine({ time, level, service, message });
          const head = layout.exec(line);
          expect(head).not.toBeNull();
          expect(head?.[1]).toBe(reference(time));
          expect(head?.[2]).toBe(level.toUpperCase());
          const rest = line.slice(head?.[0].length);
          expect(rest).toBe(`${escapeControls(service)}] ${escapeControls(message)}\n`);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

// Every character some reader takes as the end of a line (VT and FF for some, NEL, LS, PS)
// or a terminal as the start of a control sequence (ESC, 8-bit CSI).
// oxlint-disable-next-line no-control-regex
const LINE_OR_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe("text line: log injection (issue 13 item 11)", () => {
  const time = new Date(2026, 10, 25, 10, 10, 4, 783).getTime();
  const forged = "[2026-11-25 10:10:04.783] [INFO] [kernel] all services healthy";

  it("regression: a newline in the message cannot forge a [INFO] [kernel] line", () => {
    const line = textLine({ time, level: "warn", service: "kernel", message: `service echo failed: boom\n${forged}` });
    expect(line).toBe(`[2026-11-25 10:10:04.783] [WARN] [kernel] service echo failed: boom\\n${forged}\n`);
    expect(line.split("\n")).toHaveLength(2);
  });

  it("regression: a newline or CR in the service name cannot forge a line either", () => {
    for (const service of [`x\n${forged}`, `x\r${forged}`, `x\r\n${forged}`, `x\u2028${forged}`, `x\u0085${forged}`]) {
      const line = textLine({ time, level: "info", service, message: "m" });
      expect(line.indexOf("\n")).toBe(line.length - 1);
      expect(LINE_OR_CONTROL.test(line.slice(0, -1))).toBe(false);
    }
  });

  it("regression: ESC and the 8-bit CSI never reach the terminal raw (message, service, fields)", () => {
    const line = textLine({
      time,
      level: "error",
      service: "a\u001b]0;pwned\u0007",
      message: "\u001b[2J\u001b[31mred\u009b31m",
      fields: { note: "\u009b1m\u2029", tab: "a\tb" },
    });
    expect(line).toBe(
      "[2026-11-25 10:10:04.783] [ERROR] [a\\u001b]0;pwned\\u0007] \\u001b[2J\\u001b[31mred\\u009b31m " +
        '{"note":"\\u009b1m\\u2029","tab":"a\\tb"}\n',
    );
  });

  it("leaves ordinary text, backslashes and non-ASCII alone", () => {
    const message = 'path C:\\temp\\n.txt, "quotes", Grüße, 日本, 🙂';
    expect(textLine({ time, level: "info", service: "echo", message })).toBe(
      `[2026-11-25 10:10:04.783] [INFO] [echo] ${message}\n`,
    );
    expect(escapeControls("plain")).toBe("plain");
  });

  it("is one line without a control character for any message, service and fields (property)", CPU_BOUND, () => {
    const nasty = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.string({
        unit: fc.constantFrom("\n", "\r", "\u001b", "\u0085", "\u009b", "\u2028", "\u2029", "\t", "[", "]", "a"),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...levels),
        nasty,
        nasty,
        fc.dictionary(nasty, fc.oneof(nasty, fc.jsonValue())),
        (level, service, message, fields) => {
          const line = textLine({ time, level, service, message, fields });
          expect(line.indexOf("\n")).toBe(line.length - 1);
          expect(LINE_OR_CONTROL.test(line.slice(0, -1))).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("JSON line", () => {
  it("uses pino's field names and numbers", () => {
    const line = jsonLine({
      time: 1745689620801,
      level: "warn",
      service: "api",
      message: 'say "hi"',
      fields: { reqId: 7 },
    });
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual({ level: 40, time: 1745689620801, service: "api", reqId: 7, msg: 'say "hi"' });
    expect(Object.keys(JSON.parse(line) as object)).toEqual(["level", "time", "service", "reqId", "msg"]);
  });

  it("maps every level like pino", () => {
    const numbers = levels.map(
      (level) => (JSON.parse(jsonLine({ time: 0, level, service: "s", message: "" })) as { level: number }).level,
    );
    expect(numbers).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it("keeps reserved names, serializes errors and bigints, survives circular fields", () => {
    const circular: Record<string, unknown> = { x: 1 };
    circular["self"] = circular;
    const err = Object.assign(new Error("bad"), { code: "E_BAD" });
    const parsed = JSON.parse(
      jsonLine({
        time: new Date(5),
        level: "error",
        service: "s",
        message: "m",
        fields: { level: 99, msg: "no", time: -1, service: "evil", err, n: 12n, gone: undefined },
      }),
    ) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 50, time: 5, service: "s", msg: "m", n: "12" });
    expect(parsed["err"]).toMatchObject({ type: "Error", message: "bad", code: "E_BAD" });
    expect("gone" in parsed).toBe(false);
    const withCycle = JSON.parse(
      jsonLine({ time: 0, level: "info", service: "s", message: "m", fields: { c: circular } }),
    ) as { c: string };
    expect(withCycle.c).toMatch(/^\[unserializable: /);
  });

  it("always gives one parseable line for any message, service and fields (property)", CPU_BOUND, () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" })),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (service, message, fields) => {
          const line = jsonLine({ time: 1, level: "info", service, message, fields });
          expect(line.indexOf("\n")).toBe(line.length - 1);
          const parsed = JSON.parse(line) as Record<string, unknown>;
          expect(parsed["msg"]).toBe(message);
          // The quoting fast path writes exactly what JSON.stringify writes.
          expect(line.endsWith(`,"msg":${JSON.stringify(message)}}\n`)).toBe(true);
          expect(parsed["service"]).toBe(service);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("JSON line: log injection (issue 13 item 11)", () => {
  it(
    "is already safe: one line, no raw C0 control, parsing back to exactly the caller's parts (property)",
    CPU_BOUND,
    () => {
      const nasty = fc.oneof(
        fc.string({ unit: "binary" }),
        fc.string({ unit: fc.constantFrom("\n", "\r", "\u001b", "\u0000", "\u2028", '"', "\\", "}", "a") }),
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...levels),
          nasty,
          nasty,
          fc.dictionary(nasty, nasty),
          (level, service, message, fields) => {
            const line = jsonLine({ time: 1, level, service, message, fields });
            expect(line.indexOf("\n")).toBe(line.length - 1);
            // oxlint-disable-next-line no-control-regex
            expect(/[\u0000-\u001f]/.test(line.slice(0, -1))).toBe(false);
            const parsed = JSON.parse(line) as Record<string, unknown>;
            // Lone surrogates come back as JSON.stringify writes them (escaped), so compare through it.
            expect(JSON.stringify(parsed["msg"])).toBe(JSON.stringify(message));
            expect(JSON.stringify(parsed["service"])).toBe(JSON.stringify(service));
            for (const [key, value] of Object.entries(fields)) {
              if (key === "level" || key === "time" || key === "service" || key === "msg") continue;
              expect(parsed[key]).toBe(value);
            }
          },
        ),
        { numRuns: 1000 },
      );
    },
  );
});

describe("JSON base fields: pid and hostname (issue 13 item 16)", () => {
  const record = { time: 1, level: "info" as const, service: "api", message: "m", fields: { reqId: 7 } };

  it("regression: a record carries pino's pid and hostname by default, in pino's place", () => {
    const line = jsonLine(record, jsonBase(undefined));
    expect(Object.keys(JSON.parse(line) as object)).toEqual([
      "level",
      "time",
      "pid",
      "hostname",
      "service",
      "reqId",
      "msg",
    ]);
    expect(JSON.parse(line)).toMatchObject({ pid: process.pid, hostname: hostname() });
  });

  it("base: null leaves them out; an object replaces them; fields cannot shadow them", () => {
    expect(Object.keys(JSON.parse(jsonLine(record, jsonBase(null))) as object)).toEqual([
      "level",
      "time",
      "service",
      "reqId",
      "msg",
    ]);
    const custom = jsonBase({ env: "prod", level: 99, skip: undefined });
    const parsed = JSON.parse(jsonLine({ ...record, fields: { env: "dev", reqId: 7 } }, custom)) as Record<
      string,
      unknown
    >;
    expect(parsed).toEqual({ level: 30, time: 1, env: "prod", service: "api", reqId: 7, msg: "m" });
    expect(jsonBase({})).toBe(jsonBase(null));
  });
});

describe("JSON time", () => {
  it("is the epoch ms number for any time, as JSON.stringify writes it (property)", CPU_BOUND, () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1e15, max: 1e15 }), fc.double(), fc.constant(999)), (time) => {
        const parsed = JSON.parse(jsonLine({ time, level: "info", service: "s", message: "" })) as { time: unknown };
        expect(parsed.time).toBe(Number.isFinite(time) ? JSON.parse(JSON.stringify(time)) : null);
      }),
      { numRuns: 3000 },
    );
  });
});
