import { mkdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { describeThrown } from "./describe-thrown.ts";
import { InvalidArgumentError } from "./errors.ts";

/**
 * `mkdir -p` that always ends. Node 20's recursive `mkdir` never settles when
 * the parent exists but refuses children with ENOENT (any path under `/proc`):
 * it retries the same step forever. Walking up ourselves tries each directory
 * at most twice. Directories it creates get `mode` (before the umask).
 * @default mode 0o777
 * @throws {InvalidArgumentError} (a rejection) for a `dir` that is not a non-empty string or a bad `mode`.
 * @throws the file system's error (EACCES, ENOTDIR, EEXIST for a file in the way, ...) as it came.
 * @example
 * await makeDirs("/var/lib/app/state", 0o700);
 */
export async function makeDirs(dir: string, mode = 0o777): Promise<void> {
  assertArguments(dir, mode);
  await makeDirsAsync(dir, mode);
}

/** {@link makeDirs}, synchronously. */
export function makeDirsSync(dir: string, mode = 0o777): void {
  assertArguments(dir, mode);
  makeDirsBlocking(dir, mode);
}

async function makeDirsAsync(dir: string, mode: number): Promise<void> {
  try {
    await mkdir(dir, { mode });
    return;
  } catch (error) {
    if (!mustCreateParent(error, dir)) return;
  }
  await makeDirsAsync(dirname(dir), mode);
  try {
    await mkdir(dir, { mode });
  } catch (error) {
    if (errnoOf(error) !== "EEXIST") throw error;
  }
}

function makeDirsBlocking(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { mode });
    return;
  } catch (error) {
    if (!mustCreateParent(error, dir)) return;
  }
  makeDirsBlocking(dirname(dir), mode);
  try {
    mkdirSync(dir, { mode });
  } catch (error) {
    if (errnoOf(error) !== "EEXIST") throw error;
  }
}

/** `false` when the directory exists; `true` when its parent must be made first; throws any other error. */
function mustCreateParent(error: unknown, dir: string): boolean {
  const code = errnoOf(error);
  if (code === "EEXIST") return false;
  if (code !== "ENOENT" || dirname(dir) === dir) throw error;
  return true;
}

function errnoOf(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

function assertArguments(dir: unknown, mode: unknown): void {
  if (typeof dir !== "string" || dir === "" || dir.includes("\0")) {
    throw new InvalidArgumentError(
      `expected a directory path (a non-empty string without NUL), got ${typeof dir === "string" ? JSON.stringify(dir) : typeof dir}`,
    );
  }
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new InvalidArgumentError(`expected mode to be an integer in [0, 0o7777], got ${describeThrown(mode, 60)}`);
  }
}
