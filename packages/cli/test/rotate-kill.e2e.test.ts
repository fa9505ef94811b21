// `mk state rotate` killed with SIGKILL at random points never leaves a state
// that cannot be loaded with the new key plus the old one. The kill point is
// counted, not timed: after a random number (0..N) of the rotate's own
// progress lines, so kills land before, during and after the writes.
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, config, KEY, makeProject, mk, MK_BIN, OTHER_KEY, type Project } from "./mk-process.ts";
import { loadAll, seedStates } from "./state-store-fixture.ts";

const STATES = 24;
const KILLS = 50;
const MAX_ATTEMPTS = 200;

let project: Project | undefined;
beforeAll(assertBuilt);
afterAll(async () => project?.remove());

function expected(round: number): Record<string, { state: unknown; version: string }> {
  return Object.fromEntries(
    Array.from({ length: STATES }, (_, i) => [
      `svc-${String(i).padStart(2, "0")}`,
      { state: { index: i, round, blob: "x".repeat(2000 + i) }, version: `1.${round}.0` },
    ]),
  );
}

/** Runs one rotate and kills it after `afterLines` progress lines; resolves with how it ended. */
function rotateAndKill(
  p: Project,
  afterLines: number,
): Promise<{ killed: boolean; lines: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [MK_BIN, "state", "rotate", "--new-key-env", "MK_NEW_KEY", "--new-key-id", "1"],
      {
        cwd: p.dir,
        env: { PATH: process.env["PATH"] ?? "", ...p.env, MK_NEW_KEY: OTHER_KEY },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let lines = 0;
    let sent = false;
    const kill = (): void => {
      if (sent) return;
      sent = true;
      child.kill("SIGKILL");
    };
    if (afterLines === 0) setImmediate(kill);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      lines += chunk.split("\n").filter((l) => l.startsWith("rotate ")).length;
      if (lines >= afterLines) kill();
    });
    const guard = setTimeout(kill, 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      resolve({ killed: signal === "SIGKILL", lines, code });
    });
  });
}

describe("mk state rotate under SIGKILL", () => {
  it(
    `leaves every state loadable after ${KILLS} kills at random points, and a final run completes`,
    { timeout: 900_000 },
    async () => {
      project = await makeProject();
      const p = project;
      await p.write("mk.config.js", config({ services: [] }));
      let round = 0;
      await seedStates(p.dir, expected(round));
      let kills = 0;
      let killsMidway = 0;
      let completed = 0;
      for (let attempt = 0; attempt < MAX_ATTEMPTS && kills < KILLS; attempt++) {
        const afterLines = Math.floor(Math.random() * (STATES + 1));
        const result = await rotateAndKill(p, afterLines);
        if (result.killed) {
          kills++;
          if (result.lines > 0 && result.lines < STATES) killsMidway++;
        } else {
          expect(result.code).toBe(0);
          completed++;
        }
        // Whatever happened, every state opens with the new key plus the old one and holds what was saved.
        const loaded = await loadAll(p.dir, { key: OTHER_KEY, id: 1 }, [{ key: KEY, id: 0 }]);
        const want = expected(round);
        expect(Object.keys(loaded).sort()).toEqual(Object.keys(want).sort());
        for (const [name, { state }] of Object.entries(want)) expect(loaded[name], name).toEqual(state);
        // No stray temp file is ever taken for a state.
        expect((await readdir(join(p.dir, "state"))).filter((f) => f.endsWith(".state")).length).toBe(STATES);
        if (!result.killed || attempt % 10 === 9) {
          // Start over under the old key, so later kills again find work to interrupt.
          round++;
          await seedStates(p.dir, expected(round));
        }
      }
      expect(kills).toBeGreaterThanOrEqual(KILLS);
      expect(killsMidway).toBeGreaterThan(0);
      // Finish: a clean run reseals what is left; the new key alone then reads everything.
      const final = await mk(["state", "rotate", "--new-key-env", "MK_NEW_KEY", "--new-key-id", "1", "--json"], p, {
        MK_NEW_KEY: OTHER_KEY,
      });
      expect(final.code, final.stderr).toBe(0);
      const onlyNew = await loadAll(p.dir, { key: OTHER_KEY, id: 1 });
      expect(Object.keys(onlyNew)).toHaveLength(STATES);
      console.log(`rotate kill test: ${kills} kills (${killsMidway} mid-rotation), ${completed} completed runs`);
    },
  );
});
