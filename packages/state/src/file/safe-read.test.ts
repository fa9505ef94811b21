import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StateError } from "../errors.ts";
import { nodeFs, type FsOps } from "./fs-ops.ts";
import { readStateFile } from "./safe-read.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function fileWith(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mk-read-"));
  dirs.push(dir);
  const path = join(dir, "echo.state");
  await writeFile(path, content);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<StateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

describe("readStateFile", () => {
  it("reads a file whole, through short reads", async () => {
    const path = await fileWith("0123456789");
    const ops: FsOps = { ...nodeFs, read: (fd, b, off, len) => nodeFs.read(fd, b, off, Math.min(len, 3)) };
    expect(new TextDecoder().decode(await readStateFile(path, 100, "echo", ops))).toBe("0123456789");
  });

  it("returns undefined when nothing is there", async () => {
    const path = await fileWith("");
    expect(await readStateFile(path + ".missing", 100, "echo")).toBeUndefined();
  });

  it("refuses a file that grows past the cap after fstat", async () => {
    const path = await fileWith("0123456789");
    let calls = 0;
    const ops: FsOps = {
      ...nodeFs,
      // The file appears to keep growing: every read fills what it is asked for.
      read: async (_fd, b, off, len) => {
        calls++;
        b.fill(65, off, off + len);
        return len;
      },
    };
    const error = await failure(readStateFile(path, 10, "echo", ops));
    expect(error.code).toBe("STATE_TOO_LARGE");
    expect(calls).toBe(1);
  });

  it("turns an EIO at read into STATE_IO and still closes the descriptor", async () => {
    const path = await fileWith("0123456789");
    let closed = 0;
    const ops: FsOps = {
      ...nodeFs,
      read: () => Promise.reject(Object.assign(new Error("EIO: injected"), { code: "EIO" })),
      close: (fd) => {
        closed++;
        return nodeFs.close(fd);
      },
    };
    const error = await failure(readStateFile(path, 100, "echo", ops));
    expect(error.code).toBe("STATE_IO");
    expect(error.message).toMatch(/read: EIO/);
    expect(closed).toBe(1);
  });

  it("turns EACCES at open into STATE_IO", async () => {
    const path = await fileWith("x");
    const ops: FsOps = {
      ...nodeFs,
      open: () => Promise.reject(Object.assign(new Error("EACCES: injected"), { code: "EACCES" })),
    };
    const error = await failure(readStateFile(path, 100, "echo", ops));
    expect(error.code).toBe("STATE_IO");
    expect(error.message).toMatch(/open: EACCES/);
  });
});
