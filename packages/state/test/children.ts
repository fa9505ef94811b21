// Spawning the child processes of the lock and fault tests, bounded in time.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, cp, mkdir, readFile, readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const builtState: string = join(here, "..", "dist", "index.js");

/** The children run the BUILT package: say how to get it rather than fail obscurely. */
export function requireBuild(): void {
  if (!existsSync(builtState)) {
    throw new Error(`these tests run the BUILT package (${builtState}); run \`pnpm build\` first`);
  }
}

export interface Child {
  proc: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Resolves with the next stdout line (rejects when the child ends first or after `ms`). */
  line(ms?: number): Promise<string>;
  /** Resolves when the child has exited (its exit code, or the signal's name). */
  exited: Promise<number | string>;
  stderr(): string;
}

/** Spawns `command args` with piped stdio, collecting stdout lines. */
export function start(command: string, args: string[]): Child {
  const proc = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: ((line: string | undefined) => void)[] = [];
  let buffered = "";
  let stderr = "";
  let ended = false;
  proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter === undefined) lines.push(line);
      else waiter(line);
    }
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.on("close", (code, signal) => {
      ended = true;
      for (const waiter of waiters.splice(0)) waiter(undefined);
      resolve(code ?? signal ?? "unknown");
    });
  });
  return {
    proc,
    exited,
    stderr: () => stderr,
    line: (ms = 60_000) =>
      new Promise((resolve, reject) => {
        const queued = lines.shift();
        if (queued !== undefined) return resolve(queued);
        if (ended) return reject(new Error(`child ended without a line; stderr: ${stderr}`));
        const timer = setTimeout(
          () => reject(new Error(`no line from the child within ${ms} ms; stderr: ${stderr}`)),
          ms,
        );
        waiters.push((line) => {
          clearTimeout(timer);
          if (line === undefined) reject(new Error(`child ended without a line; stderr: ${stderr}`));
          else resolve(line);
        });
      }),
  };
}

/** Ends a child that holds a lock: closes its stdin and waits for it to release and exit. */
export async function stop(child: Child): Promise<void> {
  child.proc.stdin.end();
  await child.exited;
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}

/**
 * Installs the BUILT package (its package.json and dist/, and those of the workspace
 * packages it depends on, recursively) into `<root>/node_modules`, readable by every
 * user: a child running as another user then imports `@mk/state` from there, whatever
 * the permissions of the folder the checkout lives in.
 */
export async function installBuilt(root: string): Promise<void> {
  const packagesDir = join(here, "..", "..");
  const byName = new Map<string, string>();
  for (const dir of await readdir(packagesDir)) {
    const manifest = join(packagesDir, dir, "package.json");
    if (existsSync(manifest))
      byName.set((JSON.parse(await readFile(manifest, "utf8")) as Manifest).name, join(packagesDir, dir));
  }
  const pending = ["@mk/state"];
  const done = new Set<string>();
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (done.has(name)) continue;
    done.add(name);
    const source = byName.get(name);
    if (source === undefined) throw new Error(`workspace package ${name} not found in ${packagesDir}`);
    const target = join(root, "node_modules", name);
    await mkdir(target, { recursive: true });
    await cp(join(source, "package.json"), join(target, "package.json"));
    await cp(join(source, "dist"), join(target, "dist"), { recursive: true });
    const manifest = JSON.parse(await readFile(join(source, "package.json"), "utf8")) as Manifest;
    for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
      if (range.startsWith("workspace:")) pending.push(dependency);
    }
  }
  await makeReadableByAll(root);
}

async function makeReadableByAll(path: string): Promise<void> {
  const stats = await stat(path);
  await chmod(path, stats.isDirectory() ? 0o755 : 0o644);
  if (stats.isDirectory()) for (const entry of await readdir(path)) await makeReadableByAll(join(path, entry));
}
