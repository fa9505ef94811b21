import { chmod, chown, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  config,
  counterService,
  makeProject,
  mk,
  startMk,
  type Project,
  type RunningMk,
} from "./mk-process.ts";

let projects: Project[] = [];
let running: RunningMk[] = [];

beforeAll(assertBuilt);
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop("SIGKILL")));
  await Promise.all(projects.map((p) => p.remove()));
  projects = [];
  running = [];
});

/** A project with a counter service and a caller that sends it `calls` events on start. */
async function counterProject(calls = 2): Promise<Project> {
  const p = await makeProject();
  projects.push(p);
  await p.write("services/counter.js", counterService("1.0.0"));
  await p.write("services/counter-v2.js", counterService("2.0.0", 10));
  await p.write(
    "services/caller.js",
    `export default { version: "1.0.0", async start(ctx) { for (let i = 0; i < ${calls}; i++) await ctx.send({ to: "counter", type: "add" }); } };\n`,
  );
  await p.write(
    "mk.config.js",
    config({
      services: [
        { name: "counter", module: "./services/counter.js" },
        { name: "caller", module: "./services/caller.js", dependencies: ["counter"] },
      ],
      checkpointIntervalMs: 0,
    }),
  );
  return p;
}

async function run(p: Project, args: string[] = ["run"]): Promise<RunningMk> {
  const r = startMk(args, p);
  running.push(r);
  await r.waitFor(/\[mk\] control socket /);
  return r;
}

async function socketPath(p: Project): Promise<string> {
  const [name] = await readdir(p.runtimeDir);
  if (name === undefined) throw new Error("no socket");
  return join(p.runtimeDir, name);
}

describe("operating a running kernel", () => {
  it("ps shows status, version, mode, restarts, counters and last save; --json for scripts", async () => {
    const p = await counterProject(2);
    const r = await run(p);
    const text = await mk(["ps"], p);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^NAME +STATUS +VERSION +MODE +RESTARTS +HANDLED +FAILED +TIMED OUT +REFUSED +LAST SAVE$/m,
    );
    expect(text.stdout).toMatch(/^counter +running +1\.0\.0 +in-process +0 +2 +0 +0 +0 +never$/m);
    const json = await mk(["ps", "--json"], p);
    const status = JSON.parse(json.stdout) as { pid: number; services: { name: string; stats: { handled: number } }[] };
    expect(status.pid).toBe(r.child.pid);
    expect(status.services.map((s) => s.name)).toEqual(["counter", "caller"]);
    expect(status.services[0]?.stats.handled).toBe(2);

    const saved = await mk(["checkpoint", "--json"], p);
    expect(saved.code, saved.stderr).toBe(0);
    const after = JSON.parse(saved.stdout) as { services: { name: string; lastCheckpoint?: string }[] };
    expect(after.services.find((s) => s.name === "counter")?.lastCheckpoint).toEqual(expect.any(String));
    expect(after.services.find((s) => s.name === "caller")?.lastCheckpoint).toBeUndefined();
  });

  it("swap replaces the code keeping the state; the next run boots the swapped-in version and says why", async () => {
    const p = await counterProject(2);
    const r = await run(p);
    const swapped = await mk(["swap", "counter", "services/counter-v2.js"], p);
    expect(swapped.code, swapped.stderr).toBe(0);
    expect(swapped.stdout).toBe("swapped counter: 1.0.0 -> 2.0.0\n");
    const ps = JSON.parse((await mk(["ps", "--json"], p)).stdout) as {
      services: { name: string; version: string; module: string }[];
    };
    expect(ps.services[0]).toMatchObject({ name: "counter", version: "2.0.0", module: "./services/counter-v2.js" });
    expect((await r.stop()).code).toBe(0);
    const record = JSON.parse(await readFile(join(p.dir, ".mk", "mk.config.js.boot.json"), "utf8")) as {
      services: Record<string, { version: string; by: string }>;
    };
    expect(record.services["counter"]).toMatchObject({ version: "2.0.0", by: "mk swap" });

    const next = await run(p);
    expect(next.output()).toMatch(
      /\[mk\] booting counter 2\.0\.0 from \.\/services\/counter-v2\.js: hot-swapped in by mk swap at .* replacing the config's \.\/services\/counter\.js/,
    );
    // Boot 3: the first run, the swap's start of v2, this run; the count carried over from v1.
    expect(next.output()).toMatch(/\[counter\] v2\.0\.0 boot 3 count 2/);
    expect((await next.stop()).code).toBe(0);

    // Booting the config's older module would hand 2.0.0's state to 1.0.0: refused, nothing changed.
    const older = await mk(["run", "--from-config"], p);
    expect(older.code).toBe(1);
    expect(older.stderr).toMatch(
      /^mk: service "counter": its state was saved by version 2\.0\.0, newer than 1\.0\.0 from \.\/services\/counter\.js: refusing to hand newer state to older code/,
    );
    expect(older.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a config edited after a swap wins again", async () => {
    const p = await counterProject(0);
    const r = await run(p);
    expect((await mk(["swap", "counter", "services/counter-v2.js"], p)).code).toBe(0);
    await r.stop();
    await p.write("services/counter-v3.js", counterService("3.0.0"));
    await p.write(
      "mk.config.js",
      config({
        services: [
          { name: "counter", module: "./services/counter-v3.js" },
          { name: "caller", module: "./services/caller.js" },
        ],
      }),
    );
    const next = await run(p);
    expect(next.output()).toMatch(
      /booting counter 3\.0\.0 from \.\/services\/counter-v3\.js: named by the config, which was changed after mk swap swapped in/,
    );
  });

  it("stop, start and log-level act on one service; a failed swap leaves the old version serving", async () => {
    const p = await counterProject(1);
    const r = await run(p);
    expect((await mk(["stop", "counter"], p)).stdout).toBe("stopped counter\n");
    let ps = JSON.parse((await mk(["ps", "--json"], p)).stdout) as { services: { name: string; status: string }[] };
    // Its dependent stops first.
    expect(ps.services.map((s) => `${s.name}:${s.status}`)).toEqual(["counter:stopped", "caller:stopped"]);
    expect((await mk(["start", "caller", "--json"], p)).stdout).toMatch(/"started": "caller"/);
    ps = JSON.parse((await mk(["ps", "--json"], p)).stdout) as { services: { name: string; status: string }[] };
    expect(ps.services.map((s) => `${s.name}:${s.status}`)).toEqual(["counter:running", "caller:running"]);

    expect((await mk(["log-level", "debug", "counter"], p)).stdout).toBe("log level debug for counter\n");
    await r.waitFor(/\[mk\] log level debug for counter/);
    // Regression: mk log-level accepted only four of the logger's six levels (trace and fatal were refused).
    expect((await mk(["log-level", "trace", "counter"], p)).stdout).toBe("log level trace for counter\n");
    await r.waitFor(/\[mk\] log level trace for counter/);

    await p.write(
      "services/broken.js",
      `export default { version: "9.0.0", start() { throw new Error("v9 cannot start"); }, importState() {} };\n`,
    );
    const failed = await mk(["swap", "counter", "services/broken.js"], p);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^mk: .*counter.*v9 cannot start/);
    ps = JSON.parse((await mk(["ps", "--json"], p)).stdout) as {
      services: { name: string; status: string; version: string }[];
    };
    expect(ps.services[0]).toMatchObject({ name: "counter", status: "running", version: "1.0.0" });

    const unknown = await mk(["stop", "nope"], p);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^mk: no service "nope" in .*mk\.config\.js; it has counter, caller\n$/);
  });

  it("refuses a control socket with wide permissions or another owner, and a wide control folder", async () => {
    const p = await counterProject(0);
    await run(p);
    const socket = await socketPath(p);
    expect((await mk(["ps"], p)).code).toBe(0);

    await chmod(socket, 0o666);
    const wide = await mk(["ps"], p);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toMatch(
      /^mk: control socket .* has mode 0666: expected no access for group and others: refusing it\n$/,
    );
    await chmod(socket, 0o600);

    await chmod(p.runtimeDir, 0o755);
    const wideDir = await mk(["ps"], p);
    expect(wideDir.code).toBe(1);
    expect(wideDir.stderr).toMatch(/^mk: control folder .* has mode 0755/);
    await chmod(p.runtimeDir, 0o700);

    if (process.getuid?.() === 0) {
      // As root, hand the socket to `nobody` (uid 65534): a socket someone else could have planted.
      await chown(socket, 65534, 65534);
      const foreign = await mk(["ps"], p);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toMatch(
        /^mk: control socket .* is owned by uid 65534, not by you \(uid 0\): refusing it\n$/,
      );
      await chown(socket, 0, 0);
    }
    expect((await mk(["ps"], p)).code).toBe(0);
  });

  it("says clearly when no kernel runs, and refuses a second kernel for the same config", async () => {
    const p = await counterProject(0);
    const none = await mk(["ps"], p);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^mk: no kernel is running/);
    await run(p);
    const second = await mk(["run"], p);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/a kernel for this config is already running/);
    expect((await mk(["ps"], p)).code).toBe(0);
  });
});

describe("supervision from the config", () => {
  it("restarts a crashed service per its policy; ps counts the restarts", async () => {
    const p = await makeProject();
    projects.push(p);
    await p.write(
      "services/fragile.js",
      `let crashed = 0;
export default {
  version: "1.0.0",
  start(ctx) { ctx.logger.info("fragile up"); },
  handle(event, ctx) { if (event.type === "crash") { ctx.fail(new Error("fragile crashed on purpose")); return { code: 0, message: "bye" }; } return { code: 0, message: "ok" }; },
};
`,
    );
    await p.write(
      "services/poker.js",
      `export default { async start(ctx) { await ctx.send({ to: "fragile", type: "crash" }); ctx.logger.info("poked"); } };\n`,
    );
    await p.write(
      "mk.config.js",
      config({
        services: [
          { name: "fragile", module: "./services/fragile.js", restart: "permanent" },
          { name: "poker", module: "./services/poker.js", dependencies: ["fragile"] },
        ],
        supervision: { maxRestarts: 5, periodMs: 60_000, backoff: { initialMs: 10, maxMs: 50 } },
      }),
    );
    const r = await run(p);
    await r.waitFor(/\[mk\] fragile crashed: fragile crashed on purpose/);
    await r.waitFor(/\[fragile\] fragile up/);
    let restarts = 0;
    for (let attempt = 0; attempt < 100 && restarts === 0; attempt++) {
      const ps = JSON.parse((await mk(["ps", "--json"], p)).stdout) as {
        services: { name: string; restarts: number; status: string }[];
      };
      restarts = ps.services.find((s) => s.name === "fragile" && s.status === "running")?.restarts ?? 0;
    }
    expect(restarts).toBe(1);
  });
});
