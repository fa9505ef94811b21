// One end-to-end suite for the store URLs backed by a server (postgres://, nats://): each test
// file starts its server (random loopback port, temporary folder) and runs this against it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, config, counterService, makeProject, mk, startMk, type Project } from "./mk-process.ts";
import { seedStates } from "./state-store-fixture.ts";

/** What a server-backed store gives the suite. */
export interface ServerStoreFixture<S extends { stop(): Promise<void> }> {
  /** Names the describe block, e.g. `"a PostgreSQL store"`. */
  title: string;
  /** The URL scheme without `://` (`"postgres"`, `"nats"`). */
  scheme: string;
  start(): Promise<S>;
  /** The store URL mk is configured with. */
  url(server: S): string;
  /** What `mk run` prints as its `[mk] store ...` line for that URL. */
  storeLine: RegExp;
}

export function describeServerStore<S extends { stop(): Promise<void> }>(fixture: ServerStoreFixture<S>): void {
  let server: S | undefined;
  let project: Project | undefined;

  beforeAll(async () => {
    assertBuilt();
    server = await fixture.start();
  }, 120_000);
  afterAll(async () => {
    await project?.remove();
    await server?.stop();
  });

  describe(fixture.title, () => {
    it(
      `mk run keeps state in ${fixture.scheme}://; state copy, verify and show work on it`,
      { timeout: 180_000 },
      async () => {
        if (server === undefined) throw new Error(`no ${fixture.scheme} server was started`);
        const url = fixture.url(server);
        project = await makeProject();
        const p = project;
        await p.write("services/counter.js", counterService("1.0.0"));
        await p.write(
          "services/caller.js",
          `export default { async start(ctx) { for (let i = 0; i < 3; i++) await ctx.send({ to: "counter", type: "add" }); ctx.logger.info("called"); } };\n`,
        );
        await p.write(
          "mk.config.js",
          config({
            services: [
              { name: "counter", module: "./services/counter.js" },
              { name: "caller", module: "./services/caller.js", dependencies: ["counter"] },
            ],
            store: url,
          }),
        );
        const run = startMk(["run"], p);
        await run.waitFor(/\[caller\] called/);
        expect(run.output()).toMatch(fixture.storeLine);
        expect((await run.stop()).code).toBe(0);
        const shown = await mk(["state", "show", "counter", "--json"], p);
        expect(shown.code, shown.stderr).toBe(0);
        expect(JSON.parse(shown.stdout)).toMatchObject({
          name: "counter",
          version: "1.0.0",
          state: { boots: 1, count: 3 },
        });

        await seedStates(p.dir, { echo: { state: { count: 9 }, version: "2.0.0" } });
        const copied = await mk(["state", "copy", "--from", "file:./state", "--to", url, "--yes"], p);
        expect(copied.code, copied.stderr).toBe(0);
        const verified = await mk(["state", "verify"], p);
        expect(verified.code, verified.stderr).toBe(0);
        expect(verified.stdout).toMatch(new RegExp(`^verified 2 states in ${fixture.scheme}:`, "m"));
        const again = startMk(["run"], p);
        await again.waitFor(/\[counter\] v1\.0\.0 boot 2 count 3/);
        expect((await again.stop()).code).toBe(0);
      },
    );
  });
}
