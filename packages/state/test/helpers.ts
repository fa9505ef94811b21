import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { StateError } from "@mk/state";

const made: string[] = [];

afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A fresh private temp directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mk-state-"));
  made.push(dir);
  return dir;
}

/** Awaits `promise`, expecting a StateError; returns it. */
export async function rejection(promise: Promise<unknown>): Promise<StateError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StateError);
    return error as StateError;
  }
  throw new Error("expected a rejection");
}

export const KEY = "0123456789abcdef0123456789abcdef";
export const OTHER_KEY = "fedcba9876543210fedcba9876543210";

/** The files of a state directory, without the directory lock's own `.lock.*` files. */
export async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith(".lock."));
}
