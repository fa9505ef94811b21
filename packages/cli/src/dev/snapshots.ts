import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { localImportGraph } from "./import-graph.ts";

/**
 * Copies of an isolated service's module graph, one per version `mk dev` loads. An isolate
 * imports its module from disk when it starts, so a rollback after a failed swap must find
 * the old code still there: each version runs from its own copy, never from the files being
 * edited. Kept under `.mk/dev/` beside the config (so packages still resolve from the
 * project's node_modules); older copies are removed once a newer version runs.
 */
export class Snapshots {
  readonly root: string;
  #generation = 0;
  readonly #current = new Map<string, string>();

  constructor(configDir: string) {
    this.root = join(configDir, ".mk", "dev");
  }

  /** Snapshots for a new `mk dev`: copies a killed one left behind are removed first. */
  static async fresh(configDir: string): Promise<Snapshots> {
    const snapshots = new Snapshots(configDir);
    await snapshots.clear();
    return snapshots;
  }

  /** Copies `entry` and the local files it imports; returns the copy of `entry` to load. */
  async take(name: string, entry: string): Promise<string> {
    const files = [...(await localImportGraph(entry))];
    const base = commonDir(files);
    const dir = join(this.root, name, String(++this.#generation));
    for (const file of files) {
      const target = join(dir, relative(base, file));
      await mkdir(dirname(target), { recursive: true });
      await copyFile(file, target);
    }
    // `.js` means what it meant beside the original: the nearest package.json's "type".
    await writeFile(join(dir, "package.json"), `${JSON.stringify({ type: await moduleType(entry) })}\n`);
    return join(dir, relative(base, entry));
  }

  /** The copy now running for `name`: every other copy of it is removed. */
  async keep(name: string, copy: string): Promise<void> {
    const previous = this.#current.get(name);
    this.#current.set(name, copy);
    if (previous !== undefined && previous !== copy) {
      const generation = relative(join(this.root, name), previous).split(sep)[0];
      if (generation !== undefined && generation !== "") {
        await rm(join(this.root, name, generation), { recursive: true, force: true });
      }
    }
  }

  /** A copy that did not go live (its swap failed). */
  async discard(copy: string, name: string): Promise<void> {
    const generation = relative(join(this.root, name), copy).split(sep)[0];
    if (generation !== undefined && generation !== "") {
      await rm(join(this.root, name, generation), { recursive: true, force: true });
    }
  }

  /** Removes every copy (mk dev ended). */
  async clear(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

function commonDir(files: readonly string[]): string {
  let common = dirname(files[0] ?? ".");
  for (const file of files) {
    while (!(`${dirname(file)}${sep}`.startsWith(`${common}${sep}`) || dirname(file) === common)) {
      const up = dirname(common);
      if (up === common) break;
      common = up;
    }
  }
  return common;
}

async function moduleType(file: string): Promise<string> {
  let dir = dirname(file);
  for (let depth = 0; depth < 64; depth++) {
    const text = await readFile(join(dir, "package.json"), "utf8").catch(() => undefined);
    if (text !== undefined) {
      try {
        const type = (JSON.parse(text) as { type?: unknown }).type;
        return type === "module" ? "module" : "commonjs";
      } catch {
        // A broken package.json: node would refuse it too; CommonJS is its default.
        return "commonjs";
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // No package.json at all: node detects ESM syntax in .js; "module" keeps that working.
  return "module";
}
