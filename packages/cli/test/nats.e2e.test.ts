// `store: "nats://..."` through @mk/store-nats, on a real nats-server with
// JetStream started for this file (random loopback port, temporary folder).
import { startNats, type NatsServer } from "@mk/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, config, counterService, makeProject, mk, startMk, type Project } from "./mk-process.ts";
import { seedStates } from "./state-store-fixture.ts";

let server: NatsServer | undefined;
let project: Project | undefined;

beforeAll(async () => {
  assertBuilt();
  server = await startNats({ jetstream: true });
}, 120_000);
afterAll(async () => {
  await project?.remove();
  await server?.stop();
});

describe("a NATS key-value store", () => {
  it("mk run keeps state in nats://; state copy, verify and show work on it", { timeout: 180_000 }, async () => {
    const url = `${server?.url ?? ""}?bucket=mk_cli_test`;
    project = await makeProject();
    const p = project;
    await p.write("services/counter.js", counterService("1.0.0"));
    await p.write(
      "services/caller.js",
      `export default { async start(ctx) { for (let i = 0; i < 2; i++) await ctx.send({ to: "counter", type: "add" }); ctx.logger.info("called"); } };\n`,
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
    expect((await run.stop()).code).toBe(0);
    const shown = await mk(["state", "show", "counter", "--json"], p);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      name: "counter",
      version: "1.0.0",
      state: { boots: 1, count: 2 },
    });
    await seedStates(p.dir, { echo: { state: { count: 9 }, version: "2.0.0" } });
    const copied = await mk(["state", "copy", "--from", "file:./state", "--to", url, "--yes"], p);
    expect(copied.code, copied.stderr).toBe(0);
    const verified = await mk(["state", "verify"], p);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^verified 2 states in nats:/m);
  });
});
