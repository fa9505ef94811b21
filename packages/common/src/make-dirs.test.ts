import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.ts";
import { makeDirs, makeDirsSync } from "./make-dirs.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "mk-common-dirs-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("makeDirs", () => {
  it("creates missing parents with the given mode and accepts an existing directory", async () => {
    const dir = join(root, "a", "b", "c");
    await makeDirs(dir, 0o700);
    expect((await stat(dir)).isDirectory()).toBe(true);
    expect((await stat(join(root, "a"))).mode & 0o777).toBe(0o700);
    await makeDirs(dir);
    makeDirsSync(join(root, "x", "y"));
    makeDirsSync(join(root, "x", "y"));
    expect((await stat(join(root, "x", "y"))).isDirectory()).toBe(true);
  });

  it("ends under /proc, where Node 20's recursive mkdir never settles", async () => {
    await expect(makeDirs("/proc/self/mk-common/a/b")).rejects.toMatchObject({ code: expect.any(String) });
    expect(() => makeDirsSync("/proc/self/mk-common/a/b")).toThrow();
  });

  it("passes on the file system's error when a file is in the way", async () => {
    await writeFile(join(root, "file"), "");
    await expect(makeDirs(join(root, "file", "sub"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("refuses garbage with INVALID_ARGUMENT", async () => {
    for (const dir of ["", 12, null, "a\0b"]) {
      await expect(makeDirs(dir as string)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(() => makeDirsSync(dir as string)).toThrow(InvalidArgumentError);
    }
    await expect(makeDirs(root, -1)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(makeDirs(root, "0700" as unknown as number)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
