import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TEMP_FILE_PATTERN, tempFilesInFlight, writeFileDurably } from "./durable-write.ts";
import { StateError } from "../errors.ts";
import { nodeFs, type FsOps } from "./fs-ops.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function dirWithOldFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mk-durable-"));
  dirs.push(dir);
  await writeFile(join(dir, "echo.state"), "old");
  return dir;
}

type Step = keyof FsOps;

/** Real fs calls, recorded, with one step made to fail the way a full or failing disk does. */
function faulty(failAt: Step, errno: string, nth = 1): { ops: FsOps; calls: Step[] } {
  const calls: Step[] = [];
  let seen = 0;
  const ops = {} as Record<Step, (...args: never[]) => Promise<unknown>>;
  for (const step of Object.keys(nodeFs) as Step[]) {
    ops[step] = async (...args: never[]) => {
      calls.push(step);
      if (step === failAt && ++seen === nth) throw Object.assign(new Error(`${errno}: injected`), { code: errno });
      return (nodeFs[step] as (...a: never[]) => Promise<unknown>)(...args);
    };
  }
  return { ops: ops as unknown as FsOps, calls };
}

describe("writeFileDurably", () => {
  it("writes, fsyncs, renames, then fsyncs the directory, in that order", async () => {
    const dir = await dirWithOldFile();
    const { ops, calls } = faulty("unlink", "NEVER", 99);
    await writeFileDurably(dir, "echo.state", new TextEncoder().encode("new"), "echo", ops);
    // Both opens are issued up front (they overlap the encryption); the rest is strictly ordered.
    expect(calls).toEqual(["open", "open", "write", "fsync", "close", "rename", "fsync", "close"]);
    expect(await readFile(join(dir, "echo.state"), "utf8")).toBe("new");
    expect(await readdir(dir)).toEqual(["echo.state"]);
    expect(tempFilesInFlight.size).toBe(0);
  });

  it("completes short writes", async () => {
    const dir = await dirWithOldFile();
    const ops: FsOps = {
      ...nodeFs,
      write: (fd, data, offset, length) => nodeFs.write(fd, data, offset, Math.min(length, 3)),
    };
    await writeFileDurably(dir, "echo.state", new TextEncoder().encode("0123456789"), "echo", ops);
    expect(await readFile(join(dir, "echo.state"), "utf8")).toBe("0123456789");
  });

  for (const [step, errno] of [
    ["open", "EACCES"],
    ["write", "ENOSPC"],
    ["write", "EIO"],
    ["fsync", "EIO"],
    ["fsync", "ENOSPC"],
    ["close", "EIO"],
    ["rename", "EXDEV"],
  ] as [Step, string][]) {
    it(`${errno} at ${step}: no rename, the old file intact, the temp file removed, a typed error`, async () => {
      const dir = await dirWithOldFile();
      const { ops, calls } = faulty(step, errno);
      const error = await writeFileDurably(dir, "echo.state", new TextEncoder().encode("new"), "echo", ops).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StateError);
      expect((error as StateError).code).toBe("STATE_IO");
      expect((error as StateError).message).toContain(errno);
      expect((error as StateError).message).toMatch(/previous file is intact/);
      expect(((error as StateError).cause as { code: string }).code).toBe(errno);
      if (step !== "rename") expect(calls).not.toContain("rename");
      // Every descriptor opened was closed.
      expect(calls.filter((c) => c === "close").length).toBe(
        calls.filter((c) => c === "open").length - (step === "open" ? 1 : 0),
      );
      expect(await readFile(join(dir, "echo.state"), "utf8")).toBe("old");
      expect(await readdir(dir)).toEqual(["echo.state"]);
    });
  }

  it("a failing producer (the crypter) leaves no temp file, closes every fd, and its error passes through unchanged", async () => {
    const dir = await dirWithOldFile();
    const { ops, calls } = faulty("unlink", "NEVER", 99);
    const boom = new Error("encrypt failed");
    const error = await writeFileDurably(dir, "echo.state", () => Promise.reject(boom), "echo", ops).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBe(boom);
    expect(calls.filter((c) => c === "close").length).toBe(2);
    expect(calls).not.toContain("rename");
    expect(await readdir(dir)).toEqual(["echo.state"]);
    expect(tempFilesInFlight.size).toBe(0);
  });

  // Regression (issue 13 item 6): when opening the directory for its fsync failed (EMFILE,
  // EIO), the save still renamed the new file into place, then rejected naming a step
  // ("fsync the state directory") that never ran.
  for (const errno of ["EMFILE", "EIO"]) {
    it(`${errno} opening the directory: nothing is replaced, and the error names the open`, async () => {
      const dir = await dirWithOldFile();
      const { ops, calls } = faulty("open", errno, 2);
      const error = await writeFileDurably(dir, "echo.state", new TextEncoder().encode("new"), "echo", ops).then(
        () => undefined,
        (e: unknown) => e as StateError,
      );
      expect(error?.code).toBe("STATE_IO");
      expect(error?.message).toMatch(new RegExp(`open the state directory: ${errno}; the previous file is intact`));
      expect(calls).not.toContain("rename");
      expect(await readFile(join(dir, "echo.state"), "utf8")).toBe("old");
      expect(await readdir(dir)).toEqual(["echo.state"]);
      expect(tempFilesInFlight.size).toBe(0);
    });
  }

  it("a failed directory fsync after the rename is reported, saying the new file may not be durable", async () => {
    const dir = await dirWithOldFile();
    const { ops } = faulty("fsync", "EIO", 2);
    const error = await writeFileDurably(dir, "echo.state", new TextEncoder().encode("new"), "echo", ops).then(
      () => undefined,
      (e: unknown) => e as StateError,
    );
    expect(error?.code).toBe("STATE_IO");
    expect(error?.message).toMatch(/fsync the state directory.*may not survive a power loss/);
    expect(await readdir(dir)).toEqual(["echo.state"]);
  });

  it("never follows or reuses a path planted at the temp name (O_EXCL|O_NOFOLLOW)", async () => {
    const dir = await dirWithOldFile();
    // Force the random part to collide with a planted symlink.
    const planted = `.echo.state.${process.pid}.0000000000000000.tmp`;
    expect(TEMP_FILE_PATTERN.test(planted)).toBe(true);
    const { symlink } = await import("node:fs/promises");
    await symlink(join(dir, "victim"), join(dir, planted));
    const ops: FsOps = {
      ...nodeFs,
      open: (path, flags, mode) => nodeFs.open(path.endsWith(".tmp") ? join(dir, planted) : path, flags, mode),
    };
    const error = await writeFileDurably(dir, "echo.state", new TextEncoder().encode("new"), "echo", ops).then(
      () => undefined,
      (e: unknown) => e as StateError,
    );
    expect(error?.code).toBe("STATE_IO");
    expect(((error?.cause ?? {}) as { code?: string }).code).toBe("EEXIST");
    expect((await readdir(dir)).includes("victim")).toBe(false);
  });
});
