// `pnpm bench [filter...]`: runs every src/*.bench.ts in its own Node process
// (so one scenario's JIT state and heap never colour the next), one after the
// other, against the built packages. Each scenario prints mk beside its peers
// and the ratios. Benchmarks never gate CI.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(join(here, "src"))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)))
  .sort();

let failed = 0;
for (const file of files) {
  process.stdout.write(`\n=== ${file} ===\n`);
  const run = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, "src", file)], {
    stdio: "inherit",
  });
  if (run.status !== 0) failed += 1;
}
if (failed > 0) {
  process.stderr.write(`${failed} benchmark file(s) failed\n`);
  process.exit(1);
}
