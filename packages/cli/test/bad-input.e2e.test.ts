import { chmod, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  config,
  counterService,
  makeProject,
  mk,
  OTHER_KEY,
  startMk,
  type MkResult,
  type Project,
} from "./mk-process.ts";

let projects: Project[] = [];
beforeAll(assertBuilt);
afterEach(async () => {
  await Promise.all(projects.map((p) => p.remove()));
  projects = [];
});

async function project(files: Record<string, string>, env?: Record<string, string>): Promise<Project> {
  const p = await makeProject(env);
  projects.push(p);
  for (const [path, text] of Object.entries(files)) await p.write(path, text);
  return p;
}

/** One line on stderr, nothing on stdout but the boot's own lines, a non-zero exit. */
function expectOneLine(result: MkResult, pattern: RegExp, code = 1): void {
  expect(result.code, result.stdout + result.stderr).toBe(code);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

const counter = { "services/counter.js": counterService("1.0.0") };
const counterConfig = config({ services: [{ name: "counter", module: "./services/counter.js" }] });

describe("bad input: one clear line, a non-zero exit, nothing changed", () => {
  it("an unknown command or flag, and a wrong number of arguments (exit 2)", async () => {
    const p = await project({});
    expectOneLine(await mk(["launch"], p), /^mk: unknown command "launch" \(expected one of: run, dev, ps, swap/, 2);
    expectOneLine(await mk(["run", "--turbo"], p), /^mk: mk run: Unknown option '--turbo'/, 2);
    expectOneLine(
      await mk(["swap", "echo"], p),
      /^mk: mk swap: expected 2 arguments, got 1 \(echo\) \(usage: mk swap NAME MODULE/,
      2,
    );
    const json = await mk(["launch", "--json"], p);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "USAGE", message: 'unknown command "launch"' } });
  });

  it("a config that throws, is missing, or has a field of the wrong shape names the file and the field", async () => {
    const p = await project({ "throws/mk.config.js": `throw new Error("config exploded");\n`, ...counter });
    expectOneLine(
      await mk(["run", "throws"], p),
      /^mk: .*throws\/mk\.config\.js: loading the config failed: config exploded\n$/,
    );
    expectOneLine(await mk(["run", "nowhere.js"], p), /^mk: config file nowhere\.js does not exist/);
    expectOneLine(
      await mk(["run"], p),
      /^mk: no config in .*: expected one of mk\.config\.ts, mk\.config\.mts, mk\.config\.js, mk\.config\.mjs/,
    );
    await p.write("mk.config.js", config({ services: [{ name: "counter", module: 42 }] }));
    expectOneLine(
      await mk(["run"], p),
      /^mk: .*mk\.config\.js: services\[0\]\.module: expected a path relative to the config file, or a file: URL, got 42\n$/,
    );
    await p.write(
      "mk.config.js",
      config({ services: [{ name: "counter", module: "./services/counter.js", dependencies: ["db"] }] }),
    );
    expectOneLine(
      await mk(["run"], p),
      /services\[0\]\.dependencies\[0\]: expected the name of a service in this config \(counter\), got "db"/,
    );
    await p.write("mk.config.js", config({ services: [], stroe: "file:./x" }));
    expectOneLine(await mk(["run"], p), /mk\.config\.js: stroe: unknown field; expected one of services, store, key/);
    expect(await readdir(p.dir)).not.toContain("state");
  });

  it("a missing service module, or one that is not a service", async () => {
    const p = await project({
      "mk.config.js": config({ services: [{ name: "ghost", module: "./services/ghost.js" }] }),
      "services/number.js": "export default 42;\n",
    });
    expectOneLine(await mk(["run"], p), /^mk: service "ghost": module .*services\/ghost\.js does not exist\n$/);
    await p.write("mk.config.js", config({ services: [{ name: "n", module: "./services/number.js" }] }));
    expectOneLine(
      await mk(["run"], p),
      /^mk: service "n": .*number\.js \(export "default"\): expected a service object, a class or a factory function, got number/,
    );
    expect(await readdir(p.runtimeDir).catch(() => [])).toEqual([]);
  });

  it("a wrong key: refused before anything runs, the state file untouched", async () => {
    const p = await project({ "mk.config.js": counterConfig, ...counter });
    const first = startMk(["run"], p);
    await first.waitFor(/running:/);
    expect((await first.stop()).code).toBe(0);
    const file = join(p.dir, "state", "counter.state");
    const before = await readFile(file);
    const wrong = await mk(["run"], p, { MK_STATE_KEY: OTHER_KEY });
    expectOneLine(wrong, /^mk: state of "counter" at .*counter\.state cannot be opened: AUTH_FAILED: .*wrong key/);
    expect(await readFile(file)).toEqual(before);
    expectOneLine(
      await mk(["run"], p, { MK_STATE_KEY: "short" }),
      /^mk: invalid key in environment variable MK_STATE_KEY: expected 16, 24 or 32 bytes, got 5/,
    );
    expectOneLine(
      await mk(["run"], { dir: p.dir, env: { MK_RUNTIME_DIR: p.runtimeDir } }),
      /^mk: no state key: environment variable MK_STATE_KEY is not set/,
    );
  });

  it("a state folder others can write is refused", async () => {
    const p = await project({ "mk.config.js": counterConfig, ...counter });
    const first = startMk(["run"], p);
    await first.waitFor(/running:/);
    await first.stop();
    await chmod(join(p.dir, "state"), 0o777);
    const result = await mk(["run"], p);
    expectOneLine(result, /^mk: refusing state directory .*state: it is writable by group or others \(mode 777\)/);
    expect((await stat(join(p.dir, "state"))).mode & 0o777).toBe(0o777);
  });

  it("a key file with wide permissions is refused; a private one works", async () => {
    const p = await project({
      "mk.config.js": config({
        services: [{ name: "counter", module: "./services/counter.js" }],
        key: { file: "./state.key" },
      }),
      "state.key": "0123456789abcdef0123456789abcdef\n",
      ...counter,
    });
    await chmod(join(p.dir, "state.key"), 0o644);
    expectOneLine(
      await mk(["run"], p),
      /^mk: key file .*state\.key has mode 0644: expected no access for group and others \(0600 or 0400\) \(chmod 600 /,
    );
    await chmod(join(p.dir, "state.key"), 0o600);
    const ok = startMk(["run"], p);
    await ok.waitFor(/key from key file \.\/state\.key/);
    await ok.waitFor(/running:/);
    expect((await ok.stop()).code).toBe(0);
  });

  it("an unknown store scheme, and supervision values the kernel refuses, name the file and field", async () => {
    const p = await project({ ...counter });
    await p.write("mk.config.js", config({ services: [], store: "redis://mk:secret@localhost:6379" }));
    const redis = await mk(["run"], p);
    expectOneLine(
      redis,
      /^mk: store "redis:\/\/mk:\*\*\*@localhost:6379": unknown scheme "redis:"; expected file:<folder>, postgres:\/\/\.\.\. or nats:\/\/\.\.\./,
    );
    expect(redis.stderr).not.toContain("secret");
    await p.write("mk.config.js", config({ services: [], supervision: { strategy: "all_for_one" } }));
    expectOneLine(
      await mk(["run"], p),
      /^mk: .*mk\.config\.js: .*supervision\.strategy "one_for_one" or "rest_for_one", got "all_for_one"/,
    );
  });
});

describe("a passphrase key source", () => {
  it(
    "creates the scrypt params (0600) on first use with an empty store, reuses them, and refuses to recreate them once states exist",
    { timeout: 180_000 },
    async () => {
      const p = await project({
        "mk.config.js": config({
          services: [{ name: "counter", module: "./services/counter.js" }],
          key: { passphraseEnv: "MK_PASSPHRASE" },
        }),
        ...counter,
      });
      const env = { MK_PASSPHRASE: "correct horse battery staple" };
      const first = startMk(["run"], p, env);
      await first.waitFor(/key from passphrase in MK_PASSPHRASE/);
      await first.waitFor(/running:/);
      expect((await first.stop()).code).toBe(0);
      const params = join(p.dir, "mk.kdf.json");
      expect((await stat(params)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(params, "utf8"))).toMatchObject({ kdf: "scrypt", N: 131072, r: 8, p: 1 });
      const shown = await mk(["state", "show", "counter", "--json"], p, env);
      expect(shown.code, shown.stderr).toBe(0);
      expectOneLine(
        await mk(["state", "show", "counter"], p, { MK_PASSPHRASE: "wrong horse" }),
        /^mk: state of "counter" .*cannot be opened: AUTH_FAILED/,
      );
      await rm(params);
      expectOneLine(
        await mk(["run"], p, env),
        /^mk: scrypt params .*mk\.kdf\.json are missing but states exist: the passphrase alone cannot derive their key/,
      );
      expect(await readdir(p.dir)).not.toContain("mk.kdf.json");
    },
  );
});

describe("help", () => {
  it("every command's --help has its usage, options and examples", async () => {
    const p = await project({});
    const main = await mk(["--help"], p);
    const commands = main.stdout.slice(main.stdout.indexOf("Commands:"), main.stdout.indexOf("Examples:"));
    const names = [...commands.matchAll(/^ {2}([a-z-]+(?: [a-z-]+)?) {2,}/gm)].map((m) => m[1] ?? "");
    expect(names).toEqual([
      "run",
      "dev",
      "ps",
      "swap",
      "stop",
      "start",
      "checkpoint",
      "log-level",
      "state ls",
      "state show",
      "state verify",
      "state rotate",
      "state export",
      "state import",
      "state import-legacy",
      "state copy",
    ]);
    for (const name of names) {
      const help = await mk([...name.split(" "), "--help"], p);
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toMatch(new RegExp(`^Usage: mk ${name}`, "m"));
      expect(help.stdout, name).toMatch(/^Options:\n(.*\n)*  -h, --help/m);
      expect(help.stdout, name).toMatch(new RegExp(`^Examples:\\n {2}.*\\bmk ${name}`, "m"));
    }
    const state = await mk(["state"], p);
    expect(state.code).toBe(2);
    expect(state.stdout).toMatch(/state verify/);
  });
});
