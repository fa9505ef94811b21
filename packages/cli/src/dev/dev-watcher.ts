import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Logger } from "@mk/logger";
import { describeError } from "../errors.ts";
import type { KernelRuntime } from "../runtime/runtime.ts";
import { localImportGraph } from "./import-graph.ts";

/** Quiet time after the last change before swapping: an editor's save is often several writes. */
export const COALESCE_MS = 150;

/** Where `mk dev` reports a failed swap: its error and stack. */
export type StackWriter = (text: string) => void;

/**
 * Watches each service's module and the local files it imports; after a burst of changes
 * settles, hot-swaps every service whose files changed, one at a time, with freshly loaded
 * code. A failed swap leaves the old version serving and prints the error with its stack.
 */
export class DevWatcher {
  readonly #runtime: KernelRuntime;
  readonly #log: Logger;
  readonly #writeStack: StackWriter;
  readonly #watchers = new Map<string, FSWatcher>();
  /** File -> services that import it (directly or not). */
  #users = new Map<string, Set<string>>();
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Swaps done (ok or not), for tests and the closing line. */
  swaps = 0;

  constructor(runtime: KernelRuntime, log: Logger, writeStack: StackWriter) {
    this.#runtime = runtime;
    this.#log = log;
    this.#writeStack = writeStack;
  }

  /** Builds the import graphs and starts watching their folders. */
  async start(): Promise<void> {
    await this.#rebuild();
    const files = this.#users.size;
    const services = this.#runtime.modules().length;
    this.#log.info(
      "watching %d file%s of %d service%s; a change hot-swaps the services that import it",
      files,
      files === 1 ? "" : "s",
      services,
      services === 1 ? "" : "s",
    );
  }

  async #rebuild(): Promise<void> {
    const users = new Map<string, Set<string>>();
    for (const { name, path } of this.#runtime.modules()) {
      for (const file of await localImportGraph(path)) {
        const set = users.get(file) ?? new Set<string>();
        set.add(name);
        users.set(file, set);
      }
    }
    this.#users = users;
    const dirs = new Set([...users.keys()].map((file) => dirname(file)));
    for (const [dir, watcher] of this.#watchers) {
      if (!dirs.has(dir)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      // The folder, not the file: editors that save by rename replace the file's inode.
      const watcher = watch(dir, { persistent: false }, (_event, filename) => {
        if (filename !== null) this.#changed(join(dir, basename(filename.toString())));
      });
      watcher.on("error", (error) => this.#log.warn("watching %s failed: %s", dir, describeError(error)));
      this.#watchers.set(dir, watcher);
    }
  }

  #changed(file: string): void {
    if (this.#stopped || !this.#users.has(file)) return;
    this.#pending.add(file);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#flush());
    }, COALESCE_MS);
  }

  async #flush(): Promise<void> {
    if (this.#stopped || this.#pending.size === 0) return;
    const files = [...this.#pending];
    this.#pending.clear();
    const names = new Set<string>();
    for (const file of files) for (const name of this.#users.get(file) ?? []) names.add(name);
    for (const { name, path } of this.#runtime.modules()) {
      if (!names.has(name) || this.#stopped) continue;
      const changed = files.filter((f) => this.#users.get(f)?.has(name) === true).map((f) => basename(f));
      this.#log.info("%s changed: hot-swapping %s", changed.join(", "), name);
      this.swaps++;
      try {
        const result = await this.#runtime.swap(name, path, "mk dev");
        this.#log.info("mk dev: %s%s is live", name, result.to === undefined ? "" : ` ${result.to}`);
      } catch (error) {
        this.#log.error("mk dev: swap of %s failed; the running version keeps serving: %s", name, describeError(error));
        this.#writeStack(`${deepestStack(error)}\n`);
      }
    }
    // A change may have added or dropped an import.
    if (!this.#stopped) await this.#rebuild();
  }

  /** Stops watching; a swap under way finishes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    await this.#running;
  }
}

/** The stack of the innermost cause (where the user's code threw), with each outer message. */
function deepestStack(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  let stack: string | undefined;
  for (let depth = 0; depth < 8 && current !== undefined; depth++) {
    if (current instanceof Error) {
      messages.push(current.message);
      if (current.stack !== undefined) stack = current.stack;
      current = current.cause;
    } else {
      messages.push(describeError(current));
      break;
    }
  }
  return stack ?? messages.join("\n  caused by: ");
}
