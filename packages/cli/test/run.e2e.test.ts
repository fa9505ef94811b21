import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, config, counterService, linkCli, makeProject, mk, startMk, type Project } from "./mk-process.ts";

let projects: Project[] = [];
async function project(env?: Record<string, string>): Promise<Project> {
  const p = await makeProject(env);
  projects.push(p);
  return p;
}

beforeAll(assertBuilt);
afterEach(async () => {
  await Promise.all(projects.map((p) => p.remove()));
  projects = [];
});

describe("mk run", () => {
  it("a new user's 10-line config runs; SIGTERM stops every service, saves state and exits 0", async () => {
    const p = await project();
    await linkCli(p);
    await p.write("services/counter.js", counterService("1.0.0"));
    await p.write(
      "services/caller.js",
      `export default class Caller {
  version = "1.0.0";
  async start(ctx) { for (let i = 0; i < 3; i++) await ctx.send({ to: "counter", type: "add" }); ctx.logger.info("sent 3"); }
}
`,
    );
    await p.write(
      "mk.config.js",
      `import { defineConfig } from "@mk/cli";
export default defineConfig({
  services: [
    { name: "counter", module: "./services/counter.js" },
    { name: "caller", module: "./services/caller.js", dependencies: ["counter"] },
  ],
  store: "file:./state",
  key: { env: "MK_STATE_KEY" },
});
`,
    );
    const first = startMk(["run"], p);
    await first.waitFor(/\[mk\] control socket /);
    const ended = await first.stop("SIGTERM");
    expect(ended.code, ended.stdout + ended.stderr).toBe(0);
    expect(ended.stderr).toBe("");
    const story = ended.stdout;
    for (const step of [
      /\[mk\] config .*mk\.config\.js/,
      /\[mk\] booting counter 1\.0\.0 from \.\/services\/counter\.js: named by the config/,
      /\[kernel\] started counter/,
      /\[counter\] v1\.0\.0 boot 1 count 0/,
      /\[caller\] sent 3/,
      /\[mk\] running: counter, caller/,
      /\[mk\] received SIGTERM: stopping all services/,
      /\[kernel\] stopped caller/,
      /\[kernel\] stopped counter/,
      /\[mk\] stopped; state saved/,
    ]) {
      expect(story).toMatch(step);
    }
    expect(story.indexOf("stopped caller")).toBeLessThan(story.indexOf("stopped counter"));
    expect((await readdir(join(p.dir, "state"))).sort()).toEqual(["counter.state"]);
    expect((await stat(join(p.dir, "state", "counter.state"))).mode & 0o777).toBe(0o600);
    // The socket is gone after a clean stop.
    expect(await readdir(p.runtimeDir)).toEqual([]);

    const second = startMk(["run"], p);
    await second.waitFor(/\[mk\] running:/);
    const again = await second.stop("SIGINT");
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\[kernel\] registered counter with its saved state/);
    expect(again.stdout).toMatch(/\[counter\] v1\.0\.0 boot 2 count 3/);
  });

  it("loads a TypeScript config (mk.config.ts) and TypeScript services through jiti", async () => {
    const p = await project();
    await linkCli(p);
    await p.write(
      "services/hello.ts",
      `import type { Reply } from "@mk/core";
interface Greeting { text: string }
const greeting: Greeting = { text: "hello from TypeScript" };
export default { version: "0.1.0", handle(): Reply { return { code: 0, message: greeting.text }; } };
`,
    );
    await p.write(
      "mk.config.ts",
      `import { defineConfig, type MkConfig } from "@mk/cli";
const config: MkConfig = defineConfig({ services: [{ name: "hello", module: "./services/hello.ts" }] });
export default config;
`,
    );
    const run = startMk(["run", "--json"], p);
    const line = await run.waitFor(/"running: hello"/);
    expect(JSON.parse(line)).toMatchObject({ level: 30, msg: "running: hello" });
    expect((await run.stop()).code).toBe(0);
  });

  it("starts in dependency order, not config order", async () => {
    const p = await project();
    await p.write("a.js", `export default { version: "1.0.0", start(ctx) { ctx.logger.info("a up"); } };\n`);
    await p.write("b.js", `export default { version: "1.0.0", start(ctx) { ctx.logger.info("b up"); } };\n`);
    await p.write(
      "mk.config.mjs",
      config({
        services: [
          { name: "a", module: "./a.js", dependencies: ["b"] },
          { name: "b", module: "./b.js" },
        ],
      }),
    );
    const run = startMk(["run"], p);
    await run.waitFor(/running:/);
    const out = (await run.stop()).stdout;
    expect(out.indexOf("b up")).toBeGreaterThan(-1);
    expect(out.indexOf("b up")).toBeLessThan(out.indexOf("a up"));
  });

  it("mk --help and mk run --help list the commands and examples", async () => {
    const p = await project();
    const help = await mk(["--help"], p);
    expect(help.code).toBe(0);
    for (const command of ["run", "ps", "swap", "stop", "start", "checkpoint", "log-level"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    }
    expect(help.stdout).toMatch(/Examples:/);
    const runHelp = await mk(["run", "--help"], p);
    expect(runHelp.code).toBe(0);
    expect(runHelp.stdout).toMatch(/Usage: mk run/);
    expect(runHelp.stdout).toMatch(/--allow-downgrade/);
    expect(runHelp.stdout).toMatch(/Examples:\n {2}mk run/);
  });
});

describe("mk run with isolated services", () => {
  it('runs mode "thread" and "process" services through @mk/isolate; ps shows the mode; swap and SIGTERM keep the state', async () => {
    const p = await project();
    await p.write("services/counter.js", counterService("1.0.0"));
    await p.write("services/counter-v2.js", counterService("2.0.0", 10));
    await p.write(
      "services/caller.js",
      `export default { async start(ctx) { for (let i = 0; i < 2; i++) { await ctx.send({ to: "threaded", type: "add" }); await ctx.send({ to: "forked", type: "add" }); } ctx.logger.info("called both"); } };\n`,
    );
    await p.write(
      "mk.config.js",
      config({
        services: [
          { name: "threaded", module: "./services/counter.js", mode: "thread", version: "1.0.0" },
          { name: "forked", module: "./services/counter.js", mode: "process", version: "1.0.0" },
          { name: "caller", module: "./services/caller.js", mode: "thread", dependencies: ["threaded", "forked"] },
        ],
      }),
    );
    const run = startMk(["run"], p);
    await run.waitFor(/\[mk\] control socket/);
    await run.waitFor(/\[caller\] called both/);
    const ps = JSON.parse((await mk(["ps", "--json"], p)).stdout) as {
      services: { name: string; mode: string; status: string; stats: { handled: number } }[];
    };
    expect(ps.services.map((s) => `${s.name}:${s.mode}:${s.status}:${s.stats.handled}`)).toEqual([
      "threaded:thread:running:2",
      "forked:process:running:2",
      "caller:thread:running:0",
    ]);
    const swapped = await mk(["swap", "threaded", "services/counter-v2.js", "--version", "2.0.0"], p);
    expect(swapped.code, swapped.stderr).toBe(0);
    expect(swapped.stdout).toBe("swapped threaded: 1.0.0 -> 2.0.0\n");
    await run.waitFor(/\[threaded\] v2\.0\.0 boot 2 count 2/);
    const ended = await run.stop();
    expect(ended.code, ended.stdout + ended.stderr).toBe(0);
    expect((await readdir(join(p.dir, "state"))).sort()).toEqual(["forked.state", "threaded.state"]);
  });
});
