// Faults injected into a real process by strace (no mocks): the kernel itself fails the
// chosen system call, and the store must report it with the old file intact.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FileStateStore } from "@mk/state";
import { requireBuild, start } from "./children.ts";
import { entries, tempDir } from "./helpers.ts";

const child = join(dirname(fileURLToPath(import.meta.url)), "save-child.mjs");
// The child seals with an identity crypter: the file holds the plain document.
const identity = { encrypt: async (b: Uint8Array) => b, decrypt: async (b: Uint8Array) => b };

/**
 * Starts the save child, waits until it is ready (lock taken, directory listed), attaches
 * strace to every thread of it, failing the first `openat` of the directory path itself
 * (`-P`: the temp file and the state file are other paths) with `errno`, then lets it save.
 * From there on the only such call is the save's open of the directory for its fsync.
 */
async function saveUnderFault(dir: string, errno: string): Promise<string> {
  const saver = start(process.execPath, [child, dir]);
  expect(await saver.line()).toBe("ready");
  const pid = saver.proc.pid ?? -1;
  const tracer = start("strace", [
    "-f",
    "-p",
    String(pid),
    "-P",
    dir,
    "-e",
    "trace=openat",
    "-e",
    `inject=openat:error=${errno}:when=1`,
    "-o",
    "/dev/null",
  ]);
  // strace says "Process N attached with T threads" on stderr once it holds every thread.
  for (let waited = 0; !/attached/.test(tracer.stderr()); waited++) {
    if (waited > 600)
      throw new Error(`strace did not attach (Debian: apt-get install strace; needs ptrace): ${tracer.stderr()}`);
    await sleep(100);
  }
  saver.proc.stdin.write("go\n");
  const outcome = await saver.line();
  await saver.exited;
  await tracer.exited;
  return outcome;
}

describe("FileStateStore: faults injected by strace", { timeout: 300_000 }, () => {
  // Regression (issue 13 item 6): when opening the state directory for its fsync failed
  // (EMFILE, EIO), the save renamed the new file into place and then rejected, naming a
  // step that never ran.
  for (const errno of ["EMFILE", "EIO"]) {
    it(`${errno} on opening the directory for its fsync: the save rejects and the old file stays`, async () => {
      requireBuild();
      const dir = join(await tempDir(), "state");
      const setup = new FileStateStore(dir, identity);
      await setup.save("echo", { n: 1 });
      await setup.close();
      const before = await readFile(join(dir, "echo.state"));
      const outcome = await saveUnderFault(dir, errno);
      expect(outcome).toMatch(
        new RegExp(`^error STATE_IO .*open the state directory: ${errno}; the previous file is intact`),
      );
      const after = new FileStateStore(dir, identity);
      expect((await after.load("echo"))?.state).toEqual({ n: 1 });
      await after.close();
      expect((await readFile(join(dir, "echo.state"))).equals(before)).toBe(true);
      expect((await entries(dir)).filter((name) => name !== "echo.state")).toEqual([]);
    });
  }
});
