import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, fileSink, InvalidArgumentError, SinkOpenError, textSink } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist", "index.js");
const fixture = join(here, "fixtures", "log-and-exit.mjs");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mk-logger-file-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(
  file: string,
  lines: number,
  how: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, pathToFileURL(dist).href, file, String(lines), how], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function expectAllLines(text: string, n: number): void {
  const got = text.split("\n").filter(Boolean);
  expect(got).toHaveLength(n);
  got.forEach((line, i) => {
    expect(line).toMatch(new RegExp(`^\\[[^\\]]{23}\\] \\[INFO\\] \\[child\\] line ${i} of ${n}$`));
  });
}

// Child processes on a loaded machine can be slow: generous timeouts, no duration asserts.
describe("fileSink flushes at process exit (real child process, built package)", { timeout: 180_000 }, () => {
  it("has a build to test", () => {
    // The child imports packages/logger/dist: without a build this suite cannot say anything.
    expect(existsSync(dist), `${dist} is missing: run \`pnpm build\` in packages/logger first`).toBe(true);
  });

  it.each([
    ["natural", 0],
    ["exit", 0],
    ["exit-later", 0],
    ["exit-code", 3],
    ["throw", 1],
  ] as const)("every line is in the file and on stdout after a %s exit", async (how, code) => {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` in packages/logger first`);
    for (const n of [1, 2000, 20_000]) {
      const file = join(dir, `${how}-${n}.log`);
      const result = await run(file, n, how);
      expect(result.code, result.stderr).toBe(code);
      if (how === "throw") expect(result.stderr).toContain("crash after logging");
      expectAllLines(readFileSync(file, "utf8"), n);
      expectAllLines(result.stdout, n);
    }
  });
});

describe("fileSink in process", () => {
  it("appends to an existing file, creates the directory and uses mode 0640", async () => {
    const file = join(dir, "nested", "deeper", "app.log");
    const log = createLogger({ service: "svc", sinks: [fileSink(file)] });
    log.info("first");
    await log.close();
    expect((statSync(file).mode & 0o777).toString(8)).toBe((0o640 & ~process.umask()).toString(8));
    const again = createLogger({ service: "svc", sinks: [fileSink(file, { format: "json" })] });
    again.warn("second %d", 2, { k: "v" });
    await again.flush();
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    expect(lines[0]).toMatch(/\] \[INFO\] \[svc\] first$/);
    expect(JSON.parse(lines[1] as string)).toMatchObject({ level: 40, service: "svc", msg: "second 2", k: "v" });
    await again.close();
  });

  it("writes nothing before the end of the tick or flush(), everything after", async () => {
    const file = join(dir, "tick.log");
    const log = createLogger({ sinks: [fileSink(file)] });
    log.info("a");
    expect(readFileSync(file, "utf8")).toBe("");
    await new Promise((resolve) => setImmediate(resolve));
    expect(readFileSync(file, "utf8")).toMatch(/ a\n$/);
    log.info("b");
    await log.flush();
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean)).toHaveLength(2);
    await log.close();
    log.info("after close");
    expect(log.stats().dropped).toBe(1);
  });

  it("rotates by size, keeps maxFiles, and loses no line", async () => {
    const file = join(dir, "rot", "app.log");
    const log = createLogger({
      service: "r",
      sinks: [fileSink(file, { maxSize: 2000, maxFiles: 3, bufferSize: 300, format: (r) => `${r.message}\n` })],
    });
    const total = 1000;
    for (let i = 0; i < total; i++) {
      log.info("line %d", i);
      if (i % 7 === 0) await log.flush();
    }
    await log.close();
    const names = readdirSync(join(dir, "rot")).sort();
    expect(names).toEqual(["app.log", "app.log.1", "app.log.2", "app.log.3"]);
    for (const name of names) expect(statSync(join(dir, "rot", name)).size).toBeLessThanOrEqual(2000);
    // Oldest first: .3, .2, .1, then the live file; together they are the newest lines in order.
    const kept = ["app.log.3", "app.log.2", "app.log.1", "app.log"]
      .flatMap((name) =>
        readFileSync(join(dir, "rot", name), "utf8")
          .split("\n")
          .filter(Boolean),
      )
      .map((line) => Number(line.replace("line ", "")));
    expect(kept.length).toBeGreaterThan(100);
    const first = kept[0] as number;
    expect(kept).toEqual(Array.from({ length: total - first }, (_, i) => first + i));
    expect(log.stats()).toEqual({ records: total, sinkErrors: 0, dropped: 0 });
  });

  it("maxFiles 0 truncates instead of keeping old files", async () => {
    const file = join(dir, "rot0", "app.log");
    const log = createLogger({ sinks: [fileSink(file, { maxSize: 500, maxFiles: 0, bufferSize: 100 })] });
    for (let i = 0; i < 200; i++) {
      log.info("line %d", i);
      await log.flush();
    }
    await log.close();
    expect(readdirSync(join(dir, "rot0"))).toEqual(["app.log"]);
    expect(readFileSync(file, "utf8")).toMatch(/line 199\n$/);
  });

  it("writes only records at or above its own level", async () => {
    const file = join(dir, "levels.log");
    const log = createLogger({
      level: "debug",
      sinks: [fileSink(file, { level: "info", format: (r) => `${r.message}\n` })],
    });
    log.debug("a");
    log.info("b");
    log.error("c");
    await log.close();
    expect(readFileSync(file, "utf8")).toBe("b\nc\n");
    expect(() => fileSink(file, { level: "all" as never })).toThrow(/invalid log level "all"/);
  });

  it("rejects bad paths and options with typed errors", () => {
    const aFile = join(dir, "plain-file");
    writeFileSync(aFile, "");
    expect(() => fileSink(dir)).toThrow(SinkOpenError); // a directory
    expect(() => fileSink(join(aFile, "below.log"))).toThrow(SinkOpenError); // parent is a file
    // Regression: Node 20's recursive mkdir never returned under /proc (ENOENT forever).
    expect(() => fileSink("/proc/mk-no-such-dir/app.log")).toThrow(SinkOpenError);
    for (const bad of [
      () => fileSink(""),
      () => fileSink(1 as never),
      () => fileSink("a\0b"),
      () => fileSink(join(dir, "x.log"), { maxSize: 0 }),
      () => fileSink(join(dir, "x.log"), { maxSize: 1.5 }),
      () => fileSink(join(dir, "x.log"), { format: "xml" as never }),
      () => fileSink(join(dir, "x.log"), { onError: "no" as never }),
      () => fileSink(join(dir, "x.log"), "opts" as never),
    ]) {
      expect(bad).toThrow(InvalidArgumentError);
    }
  });
});

describe("write failures are counted, reported and never thrown", () => {
  it("a full disk (/dev/full): every dropped line is counted", async () => {
    const errors: Error[] = [];
    const log = createLogger({ sinks: [fileSink("/dev/full", { onError: (e) => errors.push(e) })] });
    expect(() => {
      for (let i = 0; i < 10; i++) log.info("line %d", i);
    }).not.toThrow();
    await log.flush();
    expect(log.stats()).toEqual({ records: 10, sinkErrors: 1, dropped: 10 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "SINK_WRITE" });
    expect((errors[0]?.cause as NodeJS.ErrnoException | undefined)?.code).toBe("ENOSPC");
    await log.close();
  });

  it("a descriptor that cannot be written (opened read-only)", async () => {
    const file = join(dir, "read-only-fd.log");
    writeFileSync(file, "");
    const fd = openSync(file, "r");
    try {
      const errors: Error[] = [];
      const log = createLogger({ sinks: [textSink(fd, { onError: (e) => errors.push(e) })] });
      log.info("a");
      log.info("b");
      await log.flush();
      expect(log.stats()).toMatchObject({ sinkErrors: 1, dropped: 2 });
      expect((errors[0]?.cause as NodeJS.ErrnoException | undefined)?.code).toBe("EBADF");
    } finally {
      closeSync(fd);
    }
  });
});

/**
 * Runs `body` in a child node process after `const mk = await import(<built package>)`
 * and returns its stdout lines once it exits with code 0.
 */
async function stdoutOfScript(body: string): Promise<string[]> {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` in packages/logger first`);
  const script = `const mk = await import(${JSON.stringify(pathToFileURL(dist).href)});\n${body}`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  const code = await new Promise((resolve) => child.on("close", resolve));
  expect(code).toBe(0);
  return stdout.split("\n").filter(Boolean);
}

describe("stdout shared by several loggers", { timeout: 120_000 }, () => {
  it("keeps the order of lines across loggers and sinks (child process)", async () => {
    const lines = await stdoutOfScript(
      [
        `const a = mk.createLogger({ service: "a" });`,
        `const b = mk.createLogger({ service: "b", sinks: [mk.jsonSink()] });`,
        `for (let i = 0; i < 3000; i++) { (i % 2 ? b : a).info("n %d", i); if (i % 500 === 0) await new Promise((r) => setImmediate(r)); }`,
        `process.exit(0);`,
      ].join("\n"),
    );
    const numbers = lines.map((line) => Number(/n (\d+)/.exec(line)?.[1]));
    expect(numbers).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  // Regression: lines were flushed with setImmediate, so a console.log after an
  // `await` printed before log lines written earlier (seen in the README example).
  it("never lets console.log after an await overtake earlier lines (child process)", async () => {
    const lines = await stdoutOfScript(
      [
        `const log = mk.createLogger({ service: "svc" });`,
        `for (let i = 0; i < 5; i++) { log.info("line %d", i); await Promise.resolve(); console.log("console " + i); }`,
      ].join("\n"),
    );
    const order = lines.map((line) => (line.startsWith("console") ? line : (/line \d+$/.exec(line)?.[0] ?? line)));
    expect(order).toEqual(Array.from({ length: 5 }, (_, i) => [`line ${i}`, `console ${i}`]).flat());
  });
});

describe("rotation failure", () => {
  it("is reported, keeps writing to the current file, and an onError that logs does not corrupt output", async () => {
    const rot = join(dir, "rotfail");
    const file = join(rot, "app.log");
    const other = join(rot, "errors.log");
    // app.log.1 is a non-empty directory: rotation cannot make room for the old file.
    mkdirSync(join(file + ".1"), { recursive: true });
    writeFileSync(join(file + ".1", "keep"), "x");
    const errorLog = createLogger({ service: "errors", sinks: [fileSink(other, { bufferSize: 1 })] });
    const seen: Error[] = [];
    const onError = (error: Error): void => {
      seen.push(error);
      // Re-entrant: logs (and, with bufferSize 1, writes) while app.log's chunk is being written.
      errorLog.error("rotation problem: %s %s", error.message, "y".repeat(3000));
    };
    const log = createLogger({
      service: "app",
      sinks: [
        fileSink(file, { maxSize: 1000, maxFiles: 1, bufferSize: 400, format: (r) => `${r.message}\n`, onError }),
      ],
    });
    for (let i = 0; i < 200; i++) {
      log.info("line %d %s", i, "z".repeat(20));
      if (i % 5 === 0) await log.flush();
    }
    await log.close();
    await errorLog.close();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({ code: "SINK_WRITE" });
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i} ${"z".repeat(20)}`));
    const errorLines = readFileSync(other, "utf8").split("\n").filter(Boolean);
    expect(errorLines.length).toBe(seen.length);
    for (const line of errorLines)
      expect(line).toMatch(/\[ERROR\] \[errors\] rotation problem: rotation of ".*" failed y{3000}$/);
    expect(log.stats().sinkErrors).toBe(seen.length);
    expect(log.stats().dropped).toBe(0);
  });
});
