import { readFile, stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { init, parse } from "es-module-lexer";

const EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".cts", ".cjs", ".json"];
/** Most files one module may pull in: a bound against a pathological tree. */
const MAX_FILES = 5000;

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/** The file a relative specifier names, as node or a TypeScript loader would find it. */
async function resolveLocal(specifier: string, from: string): Promise<string | undefined> {
  const base = resolve(dirname(from), specifier.split("?")[0] ?? specifier);
  if (await isFile(base)) return base;
  // `./x.js` written for a `./x.ts` source (TypeScript's NodeNext style).
  const ext = extname(base);
  if (ext === ".js" || ext === ".mjs") {
    const ts = base.slice(0, -ext.length) + (ext === ".js" ? ".ts" : ".mts");
    if (await isFile(ts)) return ts;
  }
  for (const candidate of EXTENSIONS) if (await isFile(base + candidate)) return base + candidate;
  for (const candidate of EXTENSIONS)
    if (await isFile(resolve(base, `index${candidate}`))) return resolve(base, `index${candidate}`);
  return undefined;
}

/** Specifiers of the static and literal dynamic imports in a module's source. */
export async function importsOf(source: string): Promise<string[]> {
  await init();
  try {
    const [imports] = parse(source);
    return imports.flatMap((i) => (typeof i.specifier === "string" ? [i.specifier] : []));
  } catch {
    // es-module-lexer lexes JavaScript; TypeScript-only syntax can trip it. Fall back to
    // the import/export-from forms, which is all a file watcher needs.
    const found: string[] = [];
    const pattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(?\s*['"]([^'"]+)['"]/g;
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1] ?? match[2];
      if (specifier !== undefined) found.push(specifier);
    }
    return found;
  }
}

/**
 * The module and every local file it imports, transitively (relative specifiers only:
 * packages do not change under `mk dev`). Unreadable files are kept (they may appear later).
 */
export async function localImportGraph(entry: string): Promise<Set<string>> {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  while (queue.length > 0 && seen.size < MAX_FILES) {
    const file = queue.shift() as string;
    if (extname(file) === ".json") continue;
    const source = await readFile(file, "utf8").catch(() => undefined);
    if (source === undefined) continue;
    for (const specifier of await importsOf(source)) {
      if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue;
      const target = await resolveLocal(specifier, file);
      if (target !== undefined && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return seen;
}
