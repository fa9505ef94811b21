// The README's examples, kept runnable: if this file changes, update the README.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, fileSink, jsonSink, textSink } from "@mk/logger";

const dir = mkdtempSync(join(tmpdir(), "mk-logger-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stream(): { write(line: string): void; lines: string[] } {
  const lines: string[] = [];
  return { write: (line: string) => void lines.push(line), lines };
}

describe("README examples", () => {
  it("Usage: children, fields, run-time levels, a file sink", async () => {
    const stdout = stream(); // the README's textSink() writes to stdout
    const file = join(dir, "logs", "app.log");
    const log = createLogger({
      service: "kernel",
      level: "info",
      sinks: [textSink(stdout), fileSink(file, { maxSize: 10_000_000, maxFiles: 5 })],
    });

    const echo = log.child("echo");
    echo.info("count is %d", 10);
    echo.info("user %s logged in", "bob", { reqId: 7 });
    echo.debug("not shown");

    echo.level = "debug";
    log.level = "warn";
    echo.debug("echo has its own level");
    log.info("the root is at warn");
    echo.resetLevel();
    echo.info("echo follows the root again");

    await log.close();
    const tails = stdout.lines.map((line) => line.slice(26));
    expect(tails).toEqual([
      "[INFO] [echo] count is 10\n",
      '[INFO] [echo] user bob logged in {"reqId":7}\n',
      "[DEBUG] [echo] echo has its own level\n",
    ]);
    expect(readFileSync(file, "utf8")).toBe(stdout.lines.join(""));
  });

  it("Messages and fields: an Error becomes err", () => {
    const out = stream();
    const log = createLogger({ service: "echo", sinks: [jsonSink(out, { base: null })] });
    const err = new Error("save failed", { cause: new Error("disk full") });
    const name = "echo";
    log.error("save failed", err);
    log.error("save of %s failed", name, err, { reqId: 7 });
    log.error(err, "saving %s", name);
    log.error(err);
    log.error("failed: %s", err);
    const records = out.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => [r["msg"], Object.keys(r).filter((k) => k === "err" || k === "reqId")])).toEqual([
      ["save failed", ["err"]],
      ["save of echo failed", ["reqId", "err"]],
      ["saving echo", ["err"]],
      ["save failed", ["err"]],
      [expect.stringMatching(/^failed: Error: save failed/), []],
    ]);
    expect(records[0]?.["err"]).toMatchObject({ type: "Error", message: "save failed: disk full" });
    expect((records[0]?.["err"] as { stack?: string } | undefined)?.stack).toMatch(/\ncaused by: Error: disk full\n/);
  });

  it("the JSON line: pino's names with pid and hostname", () => {
    const out = stream();
    createLogger({ sinks: [jsonSink(out)] })
      .child("echo")
      .info("count is %d", 10, { reqId: 7 });
    expect(Object.keys(JSON.parse(out.lines[0] ?? "") as object)).toEqual([
      "level",
      "time",
      "pid",
      "hostname",
      "service",
      "reqId",
      "msg",
    ]);
  });
});
