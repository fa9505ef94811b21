import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

/**
 * `mkdir -p` that always ends. Node 20's `mkdirSync(dir, { recursive: true })`
 * never returns when the parent exists but refuses children with ENOENT (any
 * path under `/proc`): it retries the same step forever. Walking up ourselves
 * tries each directory at most twice.
 */
export function makeDirs(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "ENOENT" || dirname(dir) === dir) throw error;
  }
  makeDirs(dirname(dir));
  try {
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}
