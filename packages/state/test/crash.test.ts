// A real crash test: a child process saves in a loop and is SIGKILLed at random
// moments, hundreds of times. After each kill the state must load and be one of
// the states the child wrote (never torn), no older than the last save the child
// saw resolve, and leftover temp files must be cleaned and never break loading.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AesGcmCrypter } from "@mk/crypto";
import { FileStateStore } from "@mk/state";
import { KEY, tempDir } from "./helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, "crash-child.mjs");
const builtState = join(here, "..", "dist", "index.js");
const builtCrypto = join(here, "..", "..", "crypto", "dist", "index.js");

const KILLS = 210;
const LANES = 3;
const SIZES = [16, 4096, 65536, 300000, 1000];

interface CrashState {
  counter: number;
  size: number;
  fill: string;
  data: string;
}

function assertWhole(state: unknown): asserts state is CrashState {
  const s = state as CrashState;
  expect(typeof s.counter).toBe("number");
  expect(s.size).toBe(SIZES[s.counter % SIZES.length]);
  expect(s.fill).toBe(String.fromCharCode(97 + (s.counter % 26)));
  expect(s.data.length).toBe(s.size);
  expect(s.data).toBe(s.fill.repeat(s.size));
}

/**
 * Runs the child until it has printed "ready" and then `afterSaves` "saved" lines,
 * waits a random moment, SIGKILLs it. Returns the last acknowledged save.
 * Counting lines rather than milliseconds: on a busy machine one save can take
 * longer than the random wait, and a kill timed from "ready" alone might then
 * never come after a completed save.
 */
function runAndKill(dir: string, afterSaves: number): Promise<{ ready: number; acked: number } | "restart"> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, KEY], { stdio: ["ignore", "pipe", "pipe"] });
    let ready = -1;
    let acked = -1;
    let saves = 0;
    const killSoon = (): void => void setTimeout(() => proc.kill("SIGKILL"), Math.random() * 25);
    let buffered = "";
    let stderr = "";
    proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    proc.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const [word, value] = line.split(" ");
        if (word === "ready") {
          ready = Number(value);
          acked = ready;
          if (afterSaves === 0) killSoon();
        } else if (word === "saved") {
          acked = Number(value);
          if (++saves === afterSaves) killSoon();
        }
      }
    });
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve({ ready, acked });
      // Other packages in this shared tree may be rebuilding (rm -rf dist) right now: try again shortly.
      else if (ready < 0 && /ERR_MODULE_NOT_FOUND|SyntaxError/.test(stderr)) resolve("restart");
      else reject(new Error(`child exited with ${code ?? signal} before the kill: ${stderr}`));
    });
  });
}

describe("crash safety under SIGKILL", () => {
  it(`survives ${KILLS} SIGKILLs mid-save: never torn, never older than the last resolved save`, async () => {
    if (!existsSync(builtState) || !existsSync(builtCrypto)) {
      throw new Error(
        `the crash test runs the BUILT packages (${builtState}, ${builtCrypto}); run \`pnpm build\` at the repo root first`,
      );
    }
    const crypter = new AesGcmCrypter(KEY);
    let tempFilesSeen = 0;
    let killsAfterSaves = 0;
    let restarts = 0;
    const lane = async (index: number): Promise<void> => {
      const dir = join(await tempDir(), `lane${index}`);
      let expected = 0;
      for (let i = 0; i < KILLS / LANES; i++) {
        // Kill at random moments after "ready" or after 1 to 3 acknowledged saves.
        const outcome = await runAndKill(dir, i % 4);
        if (outcome === "restart") {
          if (++restarts > 40)
            throw new Error("the built packages stayed unloadable; run `pnpm build` at the repo root");
          await new Promise((resolve) => setTimeout(resolve, 500));
          i--;
          continue;
        }
        const { ready, acked } = outcome;
        // The child starts from what the previous round left.
        expect(ready).toBe(expected);
        if (acked > ready) killsAfterSaves++;
        tempFilesSeen += (await readdir(dir)).filter((f) => f.endsWith(".tmp")).length;
        const store = new FileStateStore(dir, crypter);
        const loaded = await store.load("crash");
        // Release the directory lock (taken from the killed child) for the next child.
        await store.close();
        const counter = loaded === undefined ? 0 : (loaded.state as CrashState).counter;
        if (loaded !== undefined) {
          assertWhole(loaded.state);
          expect(loaded.version).toBe(`v${counter}`);
        }
        // At most one save was in flight when the kill came.
        expect([acked, acked + 1]).toContain(counter);
        expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
        expected = counter;
      }
    };
    await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
    // The kills really landed mid-write, and after saves had completed.
    expect(tempFilesSeen).toBeGreaterThan(0);
    expect(killsAfterSaves).toBeGreaterThan(0);
    // Hundreds of node processes: minutes on a busy machine, so a generous limit.
  }, 900_000);
});
