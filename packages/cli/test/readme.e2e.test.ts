// The README's quick start, run as written: its config and service in a fresh
// folder where `@mk/cli` is installed, `mk run`, `mk ps`, SIGTERM, and a second
// run that continues from the saved state.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, linkCli, makeProject, mk, startMk, type Project } from "./mk-process.ts";

let project: Project | undefined;
beforeAll(assertBuilt);
afterAll(async () => project?.remove());

function blocks(readme: string): { config: string; service: string } {
  const config = /`mk\.config\.js`:\s+```js\n([\s\S]*?)```/.exec(readme)?.[1];
  const service = /`services\/echo\.js`[^`]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (config === undefined || service === undefined) throw new Error("README quick start blocks not found");
  return { config, service };
}

describe("README quick start", () => {
  it("runs as written: a config of at most 10 lines, npx mk run, mk ps, Ctrl-C, and state kept", async () => {
    const { config, service } = blocks(await readFile(new URL("../README.md", import.meta.url), "utf8"));
    expect(config.trim().split("\n").length).toBeLessThanOrEqual(10);
    project = await makeProject();
    await linkCli(project);
    await project.write("mk.config.js", config);
    await project.write("services/echo.js", service);
    const first = startMk(["run"], project);
    await first.waitFor(/\[mk\] control socket/);
    const ps = await mk(["ps"], project);
    expect(ps.stdout).toMatch(/^echo +running +1\.0\.0 +in-process/m);
    expect((await first.stop("SIGINT")).code).toBe(0);
    const second = startMk(["run"], project);
    await second.waitFor(/\[echo\] echo starts, 0 calls so far/);
    await second.waitFor(/registered echo with its saved state|running: echo/);
    expect((await second.stop()).code).toBe(0);
    expect(second.output()).toMatch(/\[kernel\] registered echo with its saved state/);
  });
});
