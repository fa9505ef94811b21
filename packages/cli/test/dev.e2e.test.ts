// `mk dev` on real file changes: a burst of saves is one swap per service that
// imports the file, calls keep flowing (none lost), state carries over, and a
// broken version is rolled back with its error and stack printed.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, config, makeProject, mk, startMk, type Project, type RunningMk } from "./mk-process.ts";

let project: Project | undefined;
let running: RunningMk | undefined;
beforeAll(assertBuilt);
afterEach(async () => {
  await running?.stop("SIGKILL");
  await project?.remove();
});

const counter = (name: string): string => `import { STEP } from "./step.js";
let count = 0;
export default {
  start(ctx) { ctx.logger.info("${name} starts with step %d at count %d", STEP, count); },
  handle() { count += STEP; return { code: 0, message: "ok", data: count }; },
  exportState: () => ({ count }),
  importState: (state) => { count = state.count; },
};
`;

// Calls both counters without pause until it is stopped (at most 1,000,000 calls).
const caller = `let calls = 0;
let failures = [];
let loop;
export default {
  start(ctx) {
    loop = (async () => {
      while (!ctx.signal.aborted && calls < 1_000_000) {
        for (const to of ["inproc", "iso"]) {
          const reply = await ctx.send({ to, type: "add" });
          calls++;
          if (reply.code !== 0) failures.push(to + ": " + reply.code + " " + reply.message);
        }
        if (calls % 200 === 0) ctx.logger.info("calls %d", calls);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
  },
  async stop() { await loop; },
  exportState: () => ({ calls, failures }),
};
`;

describe("mk dev", () => {
  it(
    "hot-swaps on a real file change with zero calls lost, coalesces a burst, and rolls back a broken version",
    { timeout: 240_000 },
    async () => {
      project = await makeProject();
      const p = project;
      await p.write("services/step.js", "export const STEP = 1;\n");
      await p.write("services/inproc.js", counter("inproc"));
      await p.write("services/iso.js", counter("iso"));
      await p.write("services/caller.js", caller);
      await p.write(
        "mk.config.js",
        config({
          services: [
            { name: "inproc", module: "./services/inproc.js" },
            { name: "iso", module: "./services/iso.js", mode: "thread", version: "1.0.0" },
            { name: "caller", module: "./services/caller.js", dependencies: ["inproc", "iso"] },
          ],
          checkpointIntervalMs: 0,
        }),
      );
      running = startMk(["dev"], p);
      const dev = running;
      await dev.waitFor(/\[mk\] watching 4 files of 3 services/);
      await dev.waitFor(/\[caller\] calls \d+/);

      // A burst of five saves of a file both counters import: one swap each.
      const step = join(p.dir, "services", "step.js");
      for (let i = 2; i <= 6; i++) writeFileSync(step, `export const STEP = ${i < 6 ? i : 10};\n`);
      await dev.waitFor(/\[inproc\] inproc starts with step 10 at count [1-9]\d*/);
      await dev.waitFor(/\[iso\] iso starts with step 10 at count [1-9]\d*/);
      await dev.waitFor(/mk dev: iso .*is live/);
      const swapsAfterBurst = dev.output().match(/hot-swapping (inproc|iso)$/gm) ?? [];
      expect(swapsAfterBurst.sort()).toEqual(["hot-swapping inproc", "hot-swapping iso"]);

      // A version that cannot start: rolled back, the error and its stack printed, the old one serving.
      const iso = join(p.dir, "services", "iso.js");
      writeFileSync(
        iso,
        `import { STEP } from "./step.js";\nexport default { start() { throw new Error("iso v3 is broken, step " + STEP); }, importState() {} };\n`,
      );
      await dev.waitFor(/mk dev: swap of iso failed; the running version keeps serving: .*iso v3 is broken, step 10/);
      expect(dev.output()).toMatch(/Error: iso v3 is broken, step 10\n(\s+at .*\n)+/);
      const ps = JSON.parse((await mk(["ps", "--json"], p)).stdout) as { services: { name: string; status: string }[] };
      expect(ps.services.map((s) => `${s.name}:${s.status}`)).toEqual([
        "inproc:running",
        "iso:running",
        "caller:running",
      ]);
      const calls = Number(/calls (\d+)/.exec((await dev.waitFor(/\[caller\] calls \d+/)) ?? "")?.[1]);

      // Fixed again: swapped in.
      writeFileSync(iso, counter("iso").replace("starts with", "is fixed, starts with"));
      await dev.waitFor(/\[iso\] iso is fixed, starts with step 10/);
      await dev.waitFor(
        new RegExp(
          `\\[caller\\] calls (\\d{${String(calls).length + 1},}|[${String(calls)[0]}-9]\\d{${String(calls).length - 1}})`,
        ),
      );

      const ended = await dev.stop("SIGTERM");
      expect(ended.code, ended.stdout + ended.stderr).toBe(0);
      const state = JSON.parse((await mk(["state", "show", "caller", "--json"], p)).stdout) as {
        state: { calls: number; failures: string[] };
      };
      expect(state.state.failures).toEqual([]);
      expect(state.state.calls).toBeGreaterThan(calls);
      const inproc = JSON.parse((await mk(["state", "show", "inproc", "--json"], p)).stdout) as {
        state: { count: number };
      };
      expect(inproc.state.count).toBeGreaterThan(10);
    },
  );
});
