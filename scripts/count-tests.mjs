// Sums the vitest JSON reports of every workspace package into the one line
// CI reads: `tests: N passed, N failed`. Exits 1 if a package that has tests
// left no report (it crashed before reporting) or if nothing ran at all.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const workspaces = ["packages", "apps", "tools"].flatMap((top) =>
  existsSync(top) ? readdirSync(top).map((dir) => join(top, dir)) : [],
);

let passed = 0;
let failed = 0;
let missing = 0;
for (const dir of workspaces) {
  const report = join(dir, "test-results.json");
  if (!existsSync(report)) {
    if (existsSync(join(dir, "vitest.config.ts"))) {
      console.error(`count-tests: ${dir} has tests but no report (did its run crash?)`);
      missing += 1;
    }
    continue;
  }
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed += json.numPassedTests;
  // Suites that failed to load count as failures too: their tests never ran.
  failed +=
    json.numFailedTests +
    (json.testResults ?? []).filter((f) => f.status === "failed" && f.assertionResults?.length === 0).length;
}
failed += missing;
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
