#!/usr/bin/env node
// Regenerates the "Source tree" map of CONTRIBUTING.md from the files in the
// repository, so the map cannot drift from the tree. `pnpm docs:map` rewrites
// the block between the map markers; `pnpm docs:map --check` (run by CI)
// changes nothing and exits 1 when the block differs from what the tree gives.
//
// What is listed: the root files that have a description in
// scripts/contributing-map.json, every script in scripts/, and for each
// workspace (packages/*, apps/*, bench, tools/*) its source files (`src/**`,
// tests excluded, and top-level `.ts` files other than the vitest config), one
// line for its unit tests when it has some, and one for its `test/` folder.
//
// Each line's description comes from, in order: the kept list
// (scripts/contributing-map.json, keyed by path), the file's leading comment
// (a `//` or `/** */` block before any code), its first doc comment, or the
// names it exports.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const contributing = join(root, "CONTRIBUTING.md");
const BEGIN =
  "<!-- map:begin: written by `pnpm docs:map` from the tree; describe files in their first doc comment or in scripts/contributing-map.json -->";
const END = "<!-- map:end -->";
const COLUMN = 29;
const MAX_DESCRIPTION = 110;

const kept = JSON.parse(readFileSync(join(root, "scripts/contributing-map.json"), "utf8"));

/** Tracked and new (not ignored) files, relative to the root, that exist now. */
function repositoryFiles() {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return out
    .split("\0")
    .filter((path) => path !== "" && existsSync(join(root, path)))
    .sort();
}

function isTest(path) {
  return /\.test(-d)?\.ts$/.test(path) || /\.e2e\.test\.ts$/.test(path);
}

/** Tree order: in each folder, its files first, then its subfolders, each alphabetically. */
function treeOrder(a, b) {
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const xFile = i === x.length - 1;
    const yFile = i === y.length - 1;
    if (xFile !== yFile) return xFile ? -1 : 1;
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

function clean(text) {
  let t = text
    .replace(/\{@link\s+([^}|\s]+)(?:\s*\|\s*([^}]+))?\}/g, (_, target, label) => label ?? target)
    .replace(/\s+/g, " ")
    .trim();
  // The first sentence: up to a period followed by a space (not inside "e.g." or "i.e.").
  const sentence = /^(.*?[^.](?<!e\.g|i\.e|vs))\.(\s|$)/.exec(t);
  if (sentence !== null) t = sentence[1];
  if (t.length > MAX_DESCRIPTION) t = `${t.slice(0, MAX_DESCRIPTION - 1).replace(/\s+\S*$/, "")}…`;
  return t.charAt(0).toLowerCase() === t.charAt(0) || /^[A-Z][A-Z]/.test(t) || /^[A-Z][a-z]*[A-Z]/.test(t)
    ? t
    : t.charAt(0).toLowerCase() + t.slice(1);
}

/** The `//` or `/** *\/` block at the head of a file, before any code (a shebang is skipped). */
function leadingComment(source) {
  const lines = source.split("\n");
  let i = lines[0]?.startsWith("#!") ? 1 : 0;
  while (i < lines.length && lines[i].trim() === "") i++;
  if (lines[i]?.trim().startsWith("//")) {
    const body = [];
    while (i < lines.length && lines[i].trim().startsWith("//")) body.push(lines[i++].trim().replace(/^\/\/\s?/, ""));
    return body.join(" ");
  }
  if (lines[i]?.trim().startsWith("#") && !lines[i].trim().startsWith("#!")) {
    const body = [];
    while (i < lines.length && lines[i].trim().startsWith("#")) body.push(lines[i++].trim().replace(/^#\s?/, ""));
    return body.join(" ");
  }
  if (lines[i]?.trim().startsWith("/**")) {
    const end = source.indexOf("*/", source.indexOf("/**"));
    const after = source.slice(end + 2).trimStart();
    // A doc comment directly on an import is the file's; on a declaration it is that declaration's.
    if (after.startsWith("import") || after === "") return docText(source.slice(source.indexOf("/**"), end));
  }
  return undefined;
}

function docText(block) {
  const text = block
    .replace(/^\/\*\*/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\*\s?/, ""))
    .join("\n");
  // Tags (@throws, @example, ...) are not the summary.
  return text.split(/\n\s*@/)[0].replace(/^@\S+.*$/m, "");
}

function firstDocComment(source) {
  const start = source.indexOf("/**");
  if (start < 0) return undefined;
  const end = source.indexOf("*/", start);
  const text = docText(source.slice(start, end));
  return text.trim() === "" ? undefined : text;
}

function exportedNames(source) {
  const names = [
    ...source.matchAll(
      /^export (?:declare )?(?:abstract )?(?:class|function\*?|const|let|interface|type|enum) ([A-Za-z0-9_$]+)/gm,
    ),
  ].map((m) => m[1]);
  const reexports = [...source.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) =>
    m[1]
      .split(",")
      .map((n) =>
        n
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)
          .pop(),
      )
      .filter(Boolean),
  );
  const all = [...names, ...reexports];
  if (all.length === 0) return undefined;
  return `exports ${all.slice(0, 6).join(", ")}${all.length > 6 ? ", …" : ""}`;
}

function describeFile(path) {
  if (typeof kept[path] === "string") return kept[path];
  const source = readFileSync(join(root, path), "utf8");
  const text = leadingComment(source) ?? firstDocComment(source) ?? exportedNames(source);
  return text === undefined ? "(undescribed: add a doc comment)" : clean(text);
}

function line(indent, path, description) {
  const head = `${" ".repeat(indent)}${path}`;
  return `${head.length < COLUMN ? head.padEnd(COLUMN) : `${head}  `}${description}`.trimEnd();
}

function workspaceDirs(files) {
  const dirs = new Set();
  for (const file of files) {
    const m = /^(packages\/[^/]+|apps\/[^/]+|tools\/[^/]+|bench)\/package\.json$/.exec(file);
    if (m !== null) dirs.add(m[1]);
  }
  const rank = (d) => ["packages", "apps", "bench", "tools"].indexOf(d.split("/")[0]);
  return [...dirs].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

function workspaceBlock(dir, files) {
  const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
  const header = kept[`${dir}/`] ?? `${pkg.name}: ${clean(pkg.description ?? "")}`;
  const lines = [line(0, `${dir}/`, header)];
  const own = files.filter((f) => f.startsWith(`${dir}/`)).map((f) => relative(join(root, dir), join(root, f)));
  const sources = own
    .filter(
      (f) =>
        (f.startsWith("src/") && /\.(ts|mts|mjs|js)$/.test(f)) || (/^[^/]+\.ts$/.test(f) && f !== "vitest.config.ts"),
    )
    .filter((f) => !isTest(f))
    .sort(treeOrder);
  for (const file of sources) lines.push(line(2, file, describeFile(`${dir}/${file}`)));
  if (own.some((f) => f.startsWith("src/") && isTest(f))) {
    lines.push(
      line(2, "src/**/*.test.ts", kept[`${dir}/src/**/*.test.ts`] ?? "unit tests, each beside the module it tests"),
    );
  }
  if (own.some((f) => f.startsWith("test/"))) {
    lines.push(line(2, "test/", kept[`${dir}/test/`] ?? "suites that put the parts together, and their fixtures"));
  }
  return lines;
}

function generate() {
  const files = repositoryFiles();
  const lines = [];
  const rootEntries = Object.keys(kept).filter((k) => !k.includes("/") || k === ".changeset/" || k === ".ci/run");
  for (const entry of rootEntries.sort(treeOrder)) {
    const exists = entry.endsWith("/") ? files.some((f) => f.startsWith(entry)) : files.includes(entry);
    if (exists) lines.push(line(0, entry, kept[entry]));
  }
  for (const script of files.filter((f) => /^scripts\/[^/]+\.(mjs|js|ts|sh)$/.test(f)).sort(treeOrder)) {
    lines.push(line(0, script, describeFile(script)));
  }
  for (const dir of workspaceDirs(files)) {
    lines.push("");
    lines.push(...workspaceBlock(dir, files));
  }
  return `${BEGIN}\n\n\`\`\`text\n${lines.join("\n")}\n\`\`\`\n\n${END}`;
}

const check = process.argv.includes("--check");
const doc = readFileSync(contributing, "utf8");
const begin = doc.indexOf("<!-- map:begin");
const end = doc.indexOf(END);
if (begin < 0 || end < begin) {
  console.error(`docs:map: CONTRIBUTING.md has no map markers (${BEGIN.slice(0, 14)}... ${END})`);
  process.exit(1);
}
const current = doc.slice(begin, end + END.length);
const next = generate();
if (check) {
  if (current === next) process.exit(0);
  const have = new Set(current.split("\n"));
  const want = new Set(next.split("\n"));
  for (const l of next.split("\n")) if (!have.has(l)) console.error(`+ ${l}`);
  for (const l of current.split("\n")) if (!want.has(l)) console.error(`- ${l}`);
  console.error("docs:map: CONTRIBUTING.md's source map does not match the tree; run `pnpm docs:map`");
  process.exit(1);
}
if (current !== next) writeFileSync(contributing, doc.slice(0, begin) + next + doc.slice(end + END.length));
console.log(current === next ? "docs:map: CONTRIBUTING.md is up to date" : "docs:map: CONTRIBUTING.md's map rewritten");
