import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  copyFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const published = readdirSync(join(root, "packages")).sort();
const tsc = join(root, "node_modules/.bin/tsc");

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  type?: string;
  sideEffects?: boolean;
  engines?: { node?: string };
  files?: string[];
  exports?: Record<string, unknown>;
  repository?: { directory?: string };
  dependencies?: Record<string, string>;
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
}

let work = "";
const tarballs = new Map<string, string>();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "mk-release-check-"));
  for (const dir of published) {
    const pkgDir = join(root, "packages", dir);
    if (!existsSync(join(pkgDir, "dist/index.js")))
      throw new Error(`packages/${dir} is not built: run pnpm build first`);
    const out = run("pnpm", ["pack", "--pack-destination", work], pkgDir).trim().split("\n").at(-1) ?? "";
    const name = (JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as Manifest).name;
    tarballs.set(name, out.startsWith("/") ? out : join(work, out));
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function packedFiles(tarball: string): string[] {
  return run("tar", ["tzf", tarball], work).trim().split("\n").sort();
}

function packedManifest(tarball: string): Manifest {
  return JSON.parse(run("tar", ["xzOf", tarball, "package/package.json"], work)) as Manifest;
}

describe.each(published)("packages/%s as packed", (dir) => {
  const name = `@mk/${dir}`;

  it("ships dist with types, a README, the MIT LICENSE and nothing of the sources or tests", () => {
    const files = packedFiles(tarballs.get(name) ?? "");
    expect(files).toContain("package/package.json");
    expect(files).toContain("package/README.md");
    // The manifest says MIT; the license text must travel with the code (issue 13).
    expect(files).toContain("package/LICENSE");
    expect(run("tar", ["xzOf", tarballs.get(name) ?? "", "package/LICENSE"], work)).toBe(
      readFileSync(join(root, "LICENSE"), "utf8"),
    );
    expect(files).toContain("package/dist/index.js");
    expect(files).toContain("package/dist/index.d.ts");
    expect(files.filter((f) => /\/src\/|\.test\.|test-results/.test(f))).toEqual([]);
  });

  it("has the manifest a user's tools expect", () => {
    const manifest = packedManifest(tarballs.get(name) ?? "");
    expect(manifest.name).toBe(name);
    expect(manifest.private).not.toBe(true);
    expect(manifest.type).toBe("module");
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.engines?.node).toBe(">=20");
    expect(manifest.license).toBe("MIT");
    expect(manifest.files).toEqual(["dist", "LICENSE"]);
    expect(manifest.repository?.directory).toBe(`packages/${dir}`);
    const main = manifest.exports?.["."] as Record<string, string>;
    expect(Object.keys(main)[0]).toBe("types");
    expect(manifest.exports?.["./package.json"]).toBe("./package.json");
    // pnpm pack must have replaced workspace:* with real versions.
    for (const range of Object.values(manifest.dependencies ?? {})) expect(range).not.toMatch(/^workspace:/);
  });
});

describe("a new npm project installing the tarballs", () => {
  let project = "";

  beforeAll(() => {
    project = join(work, "consumer");
    mkdirSync(project);
    const deps = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: deps, overrides: deps }, null, 2),
    );
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], project);
    copyFileSync(join(root, "tools/release-check/test/consumer/main.ts"), join(project, "main.ts"));
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          outDir: "out",
          typeRoots: [join(root, "node_modules/@types")],
          types: ["node"],
        },
        files: ["main.ts"],
      }),
    );
  });

  it("resolves every package by its public name", () => {
    for (const name of tarballs.keys()) {
      const out = run(
        "node",
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length)`,
        ],
        project,
      );
      expect(Number(out.trim())).toBeGreaterThan(0);
    }
  });

  it("type-checks a strict program against the published types and runs it", () => {
    try {
      run(tsc, ["-p", "tsconfig.json"], project);
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      throw new Error(`tsc failed on the consumer:\n${failure.stdout ?? ""}${failure.stderr ?? ""}`);
    }
    const result = JSON.parse(run("node", ["out/main.js"], project).trim().split("\n").at(-1) ?? "{}") as Record<
      string,
      unknown
    >;
    expect(result).toEqual({
      first: 3,
      second: 6,
      typedError: "INVALID_NAME",
      cryptoError: expect.any(String),
      logged: true,
    });
  });
});

describe("the release path", () => {
  // Regression: @changesets/cli 3 needs Node 22 and crashed at start on Node 20.
  it("reads the pending changesets and prints a release plan", () => {
    const out = execFileSync("pnpm", ["changeset", "status"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Whatever is pending (nothing, right after a release), the plan is printed.
    expect(out).toMatch(/packages to be bumped/i);
  });

  it("publishes every package in a dry run", () => {
    const out = execFileSync("pnpm", ["-r", "--filter", "./packages/*", "publish", "--dry-run", "--no-git-checks"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const dir of published) expect(out).toContain(`@mk/${dir}@`);
  });
});
