import { chmod, copyFile, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, config, KEY, makeProject, mk, MK_BIN, OTHER_KEY, type Project } from "./mk-process.ts";
import { loadAll, seedStates } from "./state-store-fixture.ts";

const REFERENCE_DIR = fileURLToPath(new URL("./fixtures/reference-go", import.meta.url));

let projects: Project[] = [];
beforeAll(assertBuilt);
afterEach(async () => {
  await Promise.all(projects.map((p) => p.remove()));
  projects = [];
});

async function project(): Promise<Project> {
  const p = await makeProject();
  projects.push(p);
  await p.write("mk.config.js", config({ services: [] }));
  await seedStates(p.dir, {
    echo: { state: { count: 3, seen: ["a", "b"] }, version: "1.2.0" },
    logger: { state: { lines: 7 } },
  });
  return p;
}

describe("mk state", () => {
  it("ls lists names, format and key id; show decrypts one with version, generation, key id and format", async () => {
    const p = await project();
    const ls = await mk(["state", "ls"], p);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^2 states in file:\.\/state$/m);
    expect(ls.stdout).toMatch(/^echo {2}mk-envelope-v1 {2}key 0 {2}\d+ bytes {2}\S+$/m);
    const show = await mk(["state", "show", "echo"], p);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^version: +1\.2\.0$/m);
    expect(show.stdout).toMatch(/^generation: +\d+$/m);
    expect(show.stdout).toMatch(/^key id: +0$/m);
    expect(show.stdout).toMatch(/^format: +mk-envelope-v1$/m);
    const json = JSON.parse((await mk(["state", "show", "echo", "--json"], p)).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      name: "echo",
      version: "1.2.0",
      keyId: 0,
      format: "mk-envelope-v1",
      state: { count: 3, seen: ["a", "b"] },
    });
    const missing = await mk(["state", "show", "nope"], p);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('mk: no state "nope" in file:./state\n');
    const wrongKey = await mk(["state", "show", "echo"], p, { MK_STATE_KEY: OTHER_KEY });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/^mk: state of "echo" at .* cannot be opened: AUTH_FAILED/);
    expect(wrongKey.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("verify exits 0 when every state opens, and 1 with a line per tampered or foreign file", async () => {
    const p = await project();
    const ok = await mk(["state", "verify"], p);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe("verified 2 states in file:./state: 0 bad\n");
    const file = join(p.dir, "state", "echo.state");
    const bytes = await readFile(file);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    await copyFile(join(p.dir, "state", "logger.state"), join(p.dir, "state", "copied.state"));
    const bad = await mk(["state", "verify"], p);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^bad copied: state of "copied" .*cannot be opened/m);
    expect(bad.stderr).toMatch(/^bad echo: state of "echo" .*cannot be opened: AUTH_FAILED/m);
    expect(bad.stderr).toMatch(/^mk: 2 of 3 states failed verification: copied, echo$/m);
    expect(bad.stdout).toBe("verified 3 states in file:./state: 2 bad\n");
    const json = await mk(["state", "verify", "--json"], p);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { states: { name: string; ok: boolean }[] };
    expect(report.states.map((s) => `${s.name}:${s.ok}`)).toEqual(["copied:false", "echo:false", "logger:true"]);
    expect(JSON.parse(json.stderr.trim().split("\n").at(-1) ?? "")).toMatchObject({ error: { code: "VERIFY_FAILED" } });
  });

  it("export writes plain JSON (0600, never overwriting); import asks, needs --yes without a terminal, and restores", async () => {
    const p = await project();
    const out = join(p.dir, "backup.json");
    const exported = await mk(["state", "export", "--out", "backup.json"], p);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toBe(`exported 2 states to ${out}\n`);
    const doc = JSON.parse(await readFile(out, "utf8")) as {
      mk: string;
      states: { name: string; state: unknown; version?: string }[];
    };
    expect(doc.mk).toBe("state-export");
    expect(doc.states.map((s) => [s.name, s.state, s.version])).toEqual([
      ["echo", { count: 3, seen: ["a", "b"] }, "1.2.0"],
      ["logger", { lines: 7 }, undefined],
    ]);
    expect((await import("node:fs/promises").then((fs) => fs.stat(out))).mode & 0o777).toBe(0o600);
    const again = await mk(["state", "export", "--out", "backup.json"], p);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/EEXIST|exists/);

    await seedStates(p.dir, { echo: { state: { count: 99 }, version: "1.3.0" } });
    const refused = await mk(["state", "import", "backup.json"], p);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "mk: write 2 states into file:./state (replacing echo, logger): not confirmed, nothing was written (add --yes to confirm without a terminal)\n",
    );
    expect((await loadAll(p.dir, { key: KEY, id: 0 }))["echo"]).toEqual({ count: 99 });
    const imported = await mk(["state", "import", "backup.json", "--yes"], p);
    expect(imported.code, imported.stderr).toBe(0);
    expect(await loadAll(p.dir, { key: KEY, id: 0 })).toEqual({
      echo: { count: 3, seen: ["a", "b"] },
      logger: { lines: 7 },
    });

    await p.write(
      "broken.json",
      JSON.stringify({ mk: "state-export", format: 1, states: [{ name: "../x", state: 1 }] }),
    );
    const broken = await mk(["state", "import", "broken.json", "--yes"], p);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.json: states\[0\]\.name: expected a service name, got "\.\.\/x"/);
  });

  it("import-legacy reads the reference Go program's echo.state (the counter 3); a wrong legacy key writes nothing", async () => {
    const p = await makeProject();
    projects.push(p);
    await p.write("mk.config.js", config({ services: [] }));
    await p.write("go.key", "0000000000000000\n");
    await chmod(join(p.dir, "go.key"), 0o600);
    const wrong = await mk(["state", "import-legacy", REFERENCE_DIR, "--legacy-key-file", "go.key", "--yes"], p);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^mk: 1 legacy file in .* did not open \(nothing was written\): echo\.state: /);
    expect(await readdir(p.dir)).not.toContain("state");
    const ok = await mk(["state", "import-legacy", REFERENCE_DIR, "--yes"], p);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/using the reference program's hard-coded key 1234567890123456/);
    expect(ok.stdout).toMatch(/^imported 1 legacy state from .* into file:\.\/state: echo$/m);
    const shown = JSON.parse((await mk(["state", "show", "echo", "--json"], p)).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ name: "echo", state: 3, format: "mk-envelope-v1", keyId: 0 });
  });

  it("copy moves every state to another file store; an unknown scheme is refused", async () => {
    const p = await project();
    const copied = await mk(["state", "copy", "--from", "file:./state", "--to", "file:./copy", "--yes"], p);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toBe("copied 2 states from file:./state to file:./copy\n");
    expect((await readdir(join(p.dir, "copy"))).sort()).toEqual(["echo.state", "logger.state"]);
    const verify = await mk(["state", "verify", "--store", "file:./copy"], p);
    expect(verify.code, verify.stderr).toBe(0);
    const unknown = await mk(["state", "copy", "--from", "file:./state", "--to", "s3://bucket/x", "--yes"], p);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^mk: store "s3:\/\/bucket\/x": unknown scheme "s3:"/);
  });

  it("rotate reseals every state under the new key, keeps the old for reading, and says what to put in the config", async () => {
    const p = await project();
    const rotated = await mk(["state", "rotate", "--new-key-env", "MK_NEW_KEY"], p, { MK_NEW_KEY: OTHER_KEY });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/^rotated 2 states in file:\.\/state to key id 1 \(0 already were\)$/m);
    expect(rotated.stdout).toMatch(/key: \{"env":"MK_NEW_KEY","id":1\}/);
    expect(rotated.stdout).toMatch(/previousKeys: \[\{"env":"MK_STATE_KEY","id":0\}\]/);
    // Only the new key is needed now.
    expect(await loadAll(p.dir, { key: OTHER_KEY, id: 1 })).toEqual({
      echo: { count: 3, seen: ["a", "b"] },
      logger: { lines: 7 },
    });
    // Run again (as after a crash): what is already under the new key is skipped.
    const again = await mk(["state", "rotate", "--new-key-env", "MK_NEW_KEY", "--json"], p, { MK_NEW_KEY: OTHER_KEY });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ keyId: 1, resealed: 0, alreadyUnderNewKey: 2 });
    // The config without the new key cannot read them any more: the line says which key id it lacks.
    const stale = await mk(["state", "verify"], p);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^bad echo: .*UNKNOWN_KEY/m);
    await p.write(
      "mk.config.js",
      config({ services: [], key: { env: "MK_NEW_KEY", id: 1 }, previousKeys: [{ env: "MK_STATE_KEY", id: 0 }] }),
    );
    const verified = await mk(["state", "verify"], p, { MK_NEW_KEY: OTHER_KEY });
    expect(verified.code, verified.stderr).toBe(0);
  });
});

describe("progress", () => {
  it("draws a progress bar on a terminal (under script(1)) and plain lines otherwise", async () => {
    const p = await project();
    const plain = await mk(["state", "verify"], p);
    expect(plain.stderr).toBe("verify 1/2 echo\nverify 2/2 logger\n");
    const tty = await mk([], p, {}, [
      "script",
      "-qec",
      `${JSON.stringify(process.execPath)} ${JSON.stringify(MK_BIN)} state verify`,
      "/dev/null",
    ]);
    expect(tty.code, tty.stdout + tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/verify \[=+\] 2\/2 logger/);
    expect(tty.stdout).not.toMatch(/^verify 1\/2 echo$/m);
  });
});
