// issue 13 item 14: fileSink on a full disk left half a line glued to the next one, and
// stats().dropped overcounted. Real short writes from the kernel: a file-size limit
// (prlimit, any user) and, where this process may mount one, a full 64 KiB tmpfs (ENOSPC).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, fileSink } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist", "index.js");
const RECORD = /^\[[^\]]{23}\] \[INFO\] \[full\] (?:record (\d+) x{50,56}|after (\d+))$/;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mk-logger-full-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  lines: string[];
  ends: boolean;
  report: {
    records: number;
    after: number;
    errors: number;
    stats: { records: number; dropped: number; sinkErrors: number };
  };
}

/** Runs the fixture with a file-size limit of `limit` bytes and reads back what it wrote. */
function underLimit(kind: "file" | "fd", limit: number): Outcome {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` in packages/logger first`);
  const file = join(dir, `${kind}-${limit}.log`);
  const run = spawnSync(
    "prlimit",
    [
      `--fsize=${limit}:unlimited`,
      process.execPath,
      join(here, "fixtures", "full-disk.mjs"),
      pathToFileURL(dist).href,
      file,
      kind,
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const text = readFileSync(file, "utf8");
  return {
    lines: text.split("\n").slice(0, -1),
    ends: text.endsWith("\n"),
    report: JSON.parse(run.stdout) as Outcome["report"],
  };
}

describe("fileSink on a full disk (issue 13 item 14)", { timeout: 180_000 }, () => {
  it("prlimit is there to make the kernel's short writes", () => {
    expect(execFileSync("prlimit", ["--version"], { encoding: "utf8" })).toMatch(/prlimit/);
  });

  it.each([10_007, 4_099, 65_537])(
    "regression: a short write at %d bytes leaves no torn record, dropped counts exactly, later records are whole",
    (limit) => {
      const { lines, ends, report } = underLimit("file", limit);
      expect(ends).toBe(true);
      const parsed = lines.map((line) => RECORD.exec(line));
      expect(lines.filter((_, i) => parsed[i] === null)).toEqual([]); // every line is a whole record
      const kept = parsed.filter((m) => m?.[1] !== undefined).map((m) => Number(m?.[1]));
      expect(kept).toEqual(kept.map((_, i) => i)); // records 0..k-1 in order, none glued or skipped
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(report.records);
      // Every record is either in the file or counted as dropped, exactly once.
      expect(report.stats.dropped).toBe(report.records - kept.length);
      expect(report.stats.records).toBe(report.records + report.after);
      expect(report.errors).toBeGreaterThan(0);
      // After the disk frees up, the next records follow the last whole one.
      expect(parsed.slice(kept.length).map((m) => Number(m?.[2]))).toEqual([...Array(report.after).keys()]);
    },
  );

  it("a descriptor it cannot cut back (textSink(fd)) ends the torn line before the next record", () => {
    const { lines, ends, report } = underLimit("fd", 10_007);
    expect(ends).toBe(true);
    const torn = lines.filter((line) => !RECORD.test(line));
    expect(torn.length).toBeLessThanOrEqual(1); // at most the one line the short write cut
    const kept = lines.filter((line) => RECORD.exec(line)?.[1] !== undefined).length;
    expect(report.stats.dropped).toBe(report.records - kept); // the torn one is counted as dropped
    expect(lines.slice(-report.after).map((line) => RECORD.exec(line)?.[2])).toEqual(
      [...Array(report.after).keys()].map(String),
    );
  });
});

describe("fileSink on a real full file system (a 64 KiB tmpfs)", { timeout: 120_000 }, () => {
  it("never leaves a torn record and counts every dropped record once, then writes whole records again", async () => {
    const mount = join(dir, "tmpfs");
    execFileSync("mkdir", ["-p", mount]);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount]).status === 0;
    // Only a root (or CAP_SYS_ADMIN) process may mount; anyone else gets /dev/full's ENOSPC
    // (no short write there, but the counting is the same) and the prlimit suite above.
    const path = mounted ? join(mount, "app.log") : "/dev/full";
    const filler = join(mount, "filler");
    try {
      if (mounted) writeFileSync(filler, Buffer.alloc(32 * 1024)); // half the disk, freed later
      const errors: Error[] = [];
      const log = createLogger({ service: "full", sinks: [fileSink(path, { onError: (e) => errors.push(e) })] });
      const total = 1000; // ~90 KiB: far past what is left
      for (let n = 0; n < total;) {
        for (let i = 0; i < 20; i++, n++) log.info("record %d %s", n, "x".repeat(50 + (n % 7)));
        await log.flush();
      }
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatchObject({
        code: "SINK_WRITE",
        message: expect.stringContaining(`write to log file "${path}" (fd `),
        cause: { code: "ENOSPC" },
      });
      if (!mounted) {
        expect(log.stats().dropped).toBe(total);
        await log.close();
        return;
      }
      rmSync(filler); // the disk has room again
      for (let i = 0; i < 10; i++) log.info("after %d", i);
      await log.close();
      const text = readFileSync(path, "utf8");
      const lines = text.split("\n").slice(0, -1);
      expect(text.endsWith("\n")).toBe(true);
      const parsed = lines.map((line) => RECORD.exec(line));
      expect(lines.filter((_, i) => parsed[i] === null)).toEqual([]);
      const kept = parsed.filter((m) => m?.[1] !== undefined).map((m) => Number(m?.[1]));
      expect(kept).toEqual(kept.map((_, i) => i));
      expect(kept.length).toBeGreaterThan(0);
      expect(log.stats().dropped).toBe(total - kept.length);
      expect(parsed.slice(kept.length).map((m) => m?.[2])).toEqual([...Array(10).keys()].map(String));
    } finally {
      if (mounted) spawnSync("umount", [mount]);
    }
  });
});
