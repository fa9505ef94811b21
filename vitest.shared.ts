// One vitest configuration for every workspace package.
//
// Unit tests run against the TypeScript sources, not dist/: each `@mk/*`
// specifier (and every subpath in a package's `exports`) is aliased to the
// source file that builds it, so a test never sees a stale build. The demo's
// end-to-end test spawns the built app instead, which is why turbo's `test`
// task depends on `build`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type ViteUserConfig } from "vitest/config";

const root = dirname(fileURLToPath(import.meta.url));

interface PackageJson {
  name: string;
  exports?: Record<string, string | { default?: string; import?: string }>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function sourceAliases(): { find: RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const dir of readdirSync(join(root, "packages"))) {
    const pkg = JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) as PackageJson;
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      const js = typeof target === "string" ? target : (target.default ?? target.import);
      if (js === undefined || !js.startsWith("./dist/")) continue;
      const source = js.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
      const specifier = subpath === "." ? pkg.name : pkg.name + subpath.slice(1);
      aliases.push({
        find: new RegExp(`^${escapeRegExp(specifier)}$`),
        replacement: join(root, "packages", dir, source),
      });
    }
  }
  return aliases;
}

export function mkVitestConfig(overrides: ViteUserConfig["test"] = {}): ViteUserConfig {
  return defineConfig({
    resolve: { alias: sourceAliases() },
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      reporters: ["default", "json"],
      outputFile: { json: "test-results.json" },
      // Generous: a test never fails because the machine is slow (CI may share two cores).
      testTimeout: 60_000,
      hookTimeout: 60_000,
      typecheck: { enabled: true, include: ["src/**/*.test-d.ts", "test/**/*.test-d.ts"] },
      ...overrides,
    },
  });
}
