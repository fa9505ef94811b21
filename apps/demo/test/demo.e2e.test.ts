import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasEnvelopeMagic } from "@mk/crypto";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, expectInOrder, lastCount, runDemo, story, type DemoRun } from "./run-demo.ts";

const LEGACY_DIR = fileURLToPath(new URL("./fixtures/reference-go", import.meta.url));
const KEY_A = "a-real-key-of-32-characters-long";
const KEY_B = "another-key-32-characters-long!!";

let dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mk-demo-"));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

beforeAll(() => {
  assertBuilt();
});

/** Every run prints only log lines, nothing on stderr, and no stack trace. */
function expectCleanOutput(run: DemoRun): void {
  expect(run.stray, "stdout lines outside the log format").toEqual([]);
  expect(run.stderr).toBe("");
  expect(run.stdout).not.toMatch(/^\s+at /m);
}

function expectOk(run: DemoRun): void {
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expectCleanOutput(run);
  expect(run.lines.filter((l) => l.level === "ERROR")).toEqual([]);
}

/** The reference scenario, in order, as every successful run tells it. */
function expectStory(run: DemoRun): void {
  expectInOrder(story(run), [
    "[demo] state directory:",
    /^\[kernel\] registered logger/,
    /^\[demo\] logger 1\.0\.0 \(depends on echo\)/,
    /^\[kernel\] registered echo/,
    /^\[demo\] echo 1\.0\.0: /,
    "[demo] starting all services (dependencies first)",
    /^\[kernel\] started echo/,
    "[logger] starting...",
    "[logger] LOG: Hello, Microkernel!",
    "[logger] got reply from kernel: code 0, Handled by kernel",
    "[logger] LOG: Hello, Echo!",
    "[logger] got reply from echo: code 0, echo service handled (from logger: Hello, Echo!)",
    "[demo] send to echo: Hello, Log!",
    "[demo] reply from echo 1.0.0: code 0, echo service handled (from kernel: Hello, Log!)",
    "[demo] hot-swapping echo 1.0.0 -> 2.0.0",
    /^\[demo\] swapped: echo 2\.0\.0 is running, carrying the migrated state: count \d+ \(exported by 1\.0\.0\)/,
    /^\[echo\] count is \d+$/,
    "[demo] reply from echo 2.0.0: code 0, echo v2 service handled (from kernel: Hello, Log!)",
    "[demo] reply from the kernel: code 0, Handled by kernel (ok)",
    "[demo] stopping all services (dependents first)",
    /^\[kernel\] stopped logger/,
    /^\[kernel\] stopped echo/,
    "[demo] state persisted in",
  ]);
  // The logger's first line may come before or after the kernel says it started
  // (it runs on its own); the kernel has said so before the demo goes on.
  expectInOrder(story(run), [
    /^\[kernel\] started echo/,
    /^\[kernel\] started logger/,
    "[demo] send to echo: Hello, Log!",
  ]);
  // Both changed services are checkpointed before the story goes on, each after
  // the change it saves: a periodic checkpoint may land before the demo says it
  // is waiting for one, and under load the demo may fall back to kernel.checkpoint().
  const lines = story(run);
  const [loggerStarted, swapped, kernelEvent] = expectInOrder(lines, [
    /^\[kernel\] started logger/,
    /^\[demo\] swapped: echo 2\.0\.0 is running/,
    "[demo] send to the kernel itself",
  ]);
  for (const [name, changedAt] of [
    ["logger 1.0.0", loggerStarted],
    ["echo 2.0.0", swapped],
  ] as const) {
    const at = lines.indexOf(`[demo] checkpoint: saved the state of ${name}`, changedAt);
    expect(at, `checkpoint of ${name}`).toBeGreaterThan(changedAt ?? -1);
    expect(at, `checkpoint of ${name}`).toBeLessThan(kernelEvent ?? -1);
  }
}

// Each test spawns node several times; generous bounds so a busy machine never fails them.
describe("mk-demo, run as a user would", { timeout: 120_000 }, () => {
  it("tells the reference story, and a second run continues the counters", async () => {
    const dir = await tempDir();
    const first = await runDemo(["--state-dir", dir]);
    expectOk(first);
    expectStory(first);
    // Fresh state: v1 counts the two messages (1 each), v2 adds 8: the reference's "count is 10".
    expectInOrder(story(first), [
      "[demo] logger 1.0.0 (depends on echo): no saved state",
      "[demo] echo 1.0.0: no saved state, count starts at 0",
      "carrying the migrated state: count 2 (exported by 1.0.0)",
      "[echo] count is 10",
      "echo.state (count 10), logger.state (2 lines)",
    ]);
    expect(lastCount(first)).toBe(10);
    // Without MK_STATE_KEY the demo says loudly that its key protects nothing. The kernel also
    // says that logger, registered first, names a dependency not registered yet (echo comes next).
    expect(first.lines.filter((l) => l.level === "WARN").map((l) => l.message)).toEqual([
      expect.stringMatching(/no MK_STATE_KEY: using the fixed demo key, which is public and for the demo only/),
      'service "logger" depends on "echo", which is not registered (yet)',
    ]);

    const second = await runDemo(["--state-dir", dir]);
    expectOk(second);
    expectStory(second);
    expectInOrder(story(second), [
      "[demo] logger 1.0.0 (depends on echo): imported its saved state, 2 lines logged so far",
      "[demo] echo 1.0.0: imported its saved state, count is 10 (saved by 2.0.0)",
      "carrying the migrated state: count 12 (exported by 1.0.0)",
      "[echo] count is 20",
      "echo.state (count 20), logger.state (4 lines)",
    ]);
    expect(lastCount(second)).toBeGreaterThan(lastCount(first));
  });

  it("fails a third run with one clear ERROR line on a tampered state file, and leaves the file as it was", async () => {
    const dir = await tempDir();
    expectOk(await runDemo(["--state-dir", dir]));
    expectOk(await runDemo(["--state-dir", dir]));
    const file = join(dir, "echo.state");
    const bytes = await readFile(file);
    const tampered = Buffer.from(bytes);
    const middle = Math.floor(tampered.length / 2);
    tampered[middle] = (tampered[middle] ?? 0) ^ 0x01;
    await writeFile(file, tampered);

    const run = await runDemo(["--state-dir", dir]);
    expect(run.code).toBe(1);
    expectCleanOutput(run);
    const errors = run.lines.filter((l) => l.level === "ERROR");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.service).toBe("demo");
    expect(errors[0]?.message).toContain(`cannot load the saved state of echo from ${file}`);
    expect(errors[0]?.message).toMatch(
      /\[AUTH_FAILED\] \(wrong MK_STATE_KEY\? if not, the file was damaged or changed; run with --reset to start over; the file was left in place\)$/,
    );
    // Nothing ran: no service started, no state was overwritten.
    expect(story(run).some((l) => l.includes("started echo"))).toBe(false);
    expect(await readFile(file)).toEqual(tampered);
  });

  it("points a reference-format file in the state dir to --import-legacy, and an open state dir to its permissions", async () => {
    const dir = await tempDir();
    const legacy = await readFile(join(LEGACY_DIR, "echo.state"));
    await writeFile(join(dir, "echo.state"), legacy);
    const run = await runDemo(["--state-dir", dir]);
    expect(run.code).toBe(1);
    expectCleanOutput(run);
    expect(run.lines.filter((l) => l.level === "ERROR").map((l) => l.message)).toEqual([
      expect.stringMatching(
        /cannot load the saved state of echo from .*echo\.state: .*import it with --import-legacy DIR/,
      ),
    ]);
    expect(await readFile(join(dir, "echo.state"))).toEqual(legacy);

    const open = await tempDir();
    await chmod(open, 0o777);
    const unsafe = await runDemo(["--state-dir", open]);
    expect(unsafe.code).toBe(1);
    expectCleanOutput(unsafe);
    expect(unsafe.lines.filter((l) => l.level === "ERROR").map((l) => l.message)).toEqual([
      expect.stringMatching(/\[UNSAFE_DIR\] \(or choose another --state-dir; nothing was read or changed\)$/),
    ]);
  });

  it("refuses a second run with another MK_STATE_KEY without destroying the state; the right key still works", async () => {
    const dir = await tempDir();
    const first = await runDemo(["--state-dir", dir], { env: { MK_STATE_KEY: KEY_A } });
    expectOk(first);
    expect(first.lines.filter((l) => l.level === "WARN").map((l) => l.message)).toEqual([
      'service "logger" depends on "echo", which is not registered (yet)',
    ]);
    expect(story(first)).toContain("[demo] state key from MK_STATE_KEY (32 bytes)");
    const echoBytes = await readFile(join(dir, "echo.state"));
    const loggerBytes = await readFile(join(dir, "logger.state"));

    const wrong = await runDemo(["--state-dir", dir], { env: { MK_STATE_KEY: KEY_B } });
    expect(wrong.code).toBe(1);
    expectCleanOutput(wrong);
    const errors = wrong.lines.filter((l) => l.level === "ERROR");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(
      /cannot load the saved state of (echo|logger) from .*\.state: .*wrong MK_STATE_KEY\?/,
    );
    expect(await readFile(join(dir, "echo.state"))).toEqual(echoBytes);
    expect(await readFile(join(dir, "logger.state"))).toEqual(loggerBytes);

    const again = await runDemo(["--state-dir", dir], { env: { MK_STATE_KEY: KEY_A } });
    expectOk(again);
    expect(lastCount(again)).toBe(20);
  });

  it("--reset deletes only the demo's state files and starts from scratch", async () => {
    const dir = await tempDir();
    expectOk(await runDemo(["--state-dir", dir]));
    expectOk(await runDemo(["--state-dir", dir]));
    await writeFile(join(dir, "keep.txt"), "not the demo's");
    const reset = await runDemo(["--state-dir", dir, "--reset"]);
    expectOk(reset);
    expectStory(reset);
    expectInOrder(story(reset), [
      "[demo] --reset: deleted echo.state and logger.state in",
      "[demo] echo 1.0.0: no saved state, count starts at 0",
    ]);
    expect(lastCount(reset)).toBe(10);
    expect(await readFile(join(dir, "keep.txt"), "utf8")).toBe("not the demo's");
  });

  it("--reset on an undecryptable state is the way out the error message suggests", async () => {
    const dir = await tempDir();
    expectOk(await runDemo(["--state-dir", dir], { env: { MK_STATE_KEY: KEY_A } }));
    expect((await runDemo(["--state-dir", dir], { env: { MK_STATE_KEY: KEY_B } })).code).toBe(1);
    const reset = await runDemo(["--state-dir", dir, "--reset"], { env: { MK_STATE_KEY: KEY_B } });
    expectOk(reset);
    expect(lastCount(reset)).toBe(10);
  });

  it("--import-legacy continues from the reference Go program's echo.state (count 3)", async () => {
    const dir = await tempDir();
    const legacyBefore = await readFile(join(LEGACY_DIR, "echo.state"));
    const run = await runDemo(["--state-dir", dir, "--import-legacy", LEGACY_DIR]);
    expectOk(run);
    expectStory(run);
    expectInOrder(story(run), [
      `[demo] imported reference-format ${join(LEGACY_DIR, "echo.state")}: 3, saved to ${join(dir, "echo.state")} in mk's format`,
      "[demo] echo 1.0.0: imported its saved state, count is 3 (no version recorded)",
      "carrying the migrated state: count 5 (exported by 1.0.0)",
      "[echo] count is 13",
    ]);
    // The legacy file is only read; the new one is mk's envelope, not the reference format.
    expect(await readFile(join(LEGACY_DIR, "echo.state"))).toEqual(legacyBefore);
    expect(hasEnvelopeMagic(new Uint8Array(await readFile(join(dir, "echo.state"))))).toBe(true);

    // The next run continues from the migrated state, no legacy flag needed.
    const next = await runDemo(["--state-dir", dir]);
    expectOk(next);
    expect(lastCount(next)).toBe(23);
  });

  it("--import-legacy refuses to overwrite existing state, and says which key to try on a wrong one", async () => {
    const dir = await tempDir();
    expectOk(await runDemo(["--state-dir", dir]));
    const before = await readFile(join(dir, "echo.state"));
    const clash = await runDemo(["--state-dir", dir, "--import-legacy", LEGACY_DIR]);
    expect(clash.code).toBe(1);
    expectCleanOutput(clash);
    expect(clash.lines.filter((l) => l.level === "ERROR").map((l) => l.message)).toEqual([
      expect.stringMatching(/already exists, not replacing it .*add --reset/),
    ]);
    expect(await readFile(join(dir, "echo.state"))).toEqual(before);

    const wrongKey = await runDemo([
      "--state-dir",
      await tempDir(),
      "--import-legacy",
      LEGACY_DIR,
      "--legacy-key",
      "6543210987654321",
    ]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.lines.filter((l) => l.level === "ERROR").map((l) => l.message)).toEqual([
      expect.stringMatching(/cannot decrypt .*echo\.state: .*wrong --legacy-key\?/),
    ]);
  });

  it("keeps its state in ./state of the directory the user ran it from (INIT_CWD under pnpm)", async () => {
    const cwd = await tempDir();
    const plain = await runDemo([], { cwd });
    expectOk(plain);
    expect(story(plain)).toContain(`[demo] state directory: ${join(cwd, "state")}`);
    await readFile(join(cwd, "state", "echo.state"));

    const user = await tempDir();
    const viaPnpm = await runDemo([], { cwd, env: { INIT_CWD: user } });
    expectOk(viaPnpm);
    expect(story(viaPnpm)).toContain(`[demo] state directory: ${join(user, "state")}`);
    expect(lastCount(viaPnpm)).toBe(10);

    await mkdir(join(user, "elsewhere"));
    const relative = await runDemo(["--state-dir", "elsewhere"], { cwd, env: { INIT_CWD: user } });
    expectOk(relative);
    expect(story(relative)).toContain(`[demo] state directory: ${join(user, "elsewhere")}`);
  });

  it("explains bad command lines in one line, with exit code 2", async () => {
    for (const args of [["--nope"], ["--checkpoint-ms", "soon"], ["--level", "loud"], ["--key", "short"], ["extra"]]) {
      const run = await runDemo(args);
      expect(run.code, args.join(" ")).toBe(2);
      expectCleanOutput(run);
      expect(
        run.lines.filter((l) => l.level === "ERROR"),
        args.join(" "),
      ).toHaveLength(1);
    }
    const bad = await runDemo([], { env: { MK_STATE_KEY: "hex:abc" } });
    expect(bad.code).toBe(2);
    expect(bad.lines.map((l) => l.message)).toEqual([expect.stringMatching(/invalid key in MK_STATE_KEY/)]);
  });

  it("prints its usage with --help and does nothing else", async () => {
    const cwd = await tempDir();
    const run = await runDemo(["--help"], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: mk-demo \[options\]/);
    for (const flag of [
      "--state-dir",
      "--reset",
      "--key",
      "--import-legacy",
      "--legacy-key",
      "--checkpoint-ms",
      "--level",
      "MK_STATE_KEY",
    ]) {
      expect(run.stdout).toContain(flag);
    }
    await expect(readFile(join(cwd, "state", "echo.state"))).rejects.toThrow();
  });

  it("with checkpoints off, checkpoints once explicitly and says so", async () => {
    const run = await runDemo(["--state-dir", await tempDir(), "--checkpoint-ms", "0"]);
    expectOk(run);
    expectInOrder(story(run), [
      "checkpointing explicitly with kernel.checkpoint()",
      "[demo] checkpoint: saved the state of",
      "[demo] reply from the kernel",
    ]);
  });
});
