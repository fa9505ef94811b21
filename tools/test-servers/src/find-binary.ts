import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false; // absent or not executable: the caller tries the next place
  }
}

/** The first executable `name` in `dirs`, then in `PATH`; `undefined` when there is none. */
export function findExecutable(name: string, dirs: readonly string[]): string | undefined {
  const pathDirs = (process.env["PATH"] ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const dir of [...dirs, ...pathDirs]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Debian keeps each PostgreSQL major's binaries in `/usr/lib/postgresql/<major>/bin`: newest first. */
export function debianPostgresBinDirs(root = "/usr/lib/postgresql"): string[] {
  let majors: string[];
  try {
    majors = readdirSync(root);
  } catch {
    return []; // not Debian-like: PATH is searched instead
  }
  return majors
    .filter((major) => /^\d+$/.test(major))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(root, major, "bin"));
}
