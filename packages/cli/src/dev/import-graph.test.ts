import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { importsOf, localImportGraph } from "./import-graph.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("localImportGraph", () => {
  it("follows relative imports transitively (JS and TS, .js written for .ts, folders with index), not packages", async () => {
    dir = await mkdtemp(join(tmpdir(), "mk-graph-"));
    await mkdir(join(dir, "lib"));
    await writeFile(
      join(dir, "main.ts"),
      `import type { X } from "./types.js";\nimport { a } from "./lib";\nimport fs from "node:fs";\nimport z from "zod";\nexport default a;\n`,
    );
    await writeFile(join(dir, "types.ts"), "export interface X { n: number }\n");
    await writeFile(
      join(dir, "lib", "index.js"),
      `export { a } from "./a.mjs";\nconst later = () => import("../late.js");\n`,
    );
    await writeFile(
      join(dir, "lib", "a.mjs"),
      `import data from "../data.json" with { type: "json" };\nexport const a = data;\n`,
    );
    await writeFile(join(dir, "late.js"), `import "./main.ts";\n`);
    await writeFile(join(dir, "data.json"), "{}\n");
    await writeFile(join(dir, "unused.js"), "export {};\n");
    const graph = [...(await localImportGraph(join(dir, "main.ts")))]
      .map((f) => f.slice((dir ?? "").length + 1))
      .sort();
    expect(graph).toEqual(["data.json", "late.js", "lib/a.mjs", "lib/index.js", "main.ts", "types.ts"]);
  });

  it("reads the specifiers of static, dynamic and re-export forms", async () => {
    expect(await importsOf(`import a from "./a.js"; export * from "./b.js"; await import("./c.js");`)).toEqual([
      "./a.js",
      "./b.js",
      "./c.js",
    ]);
  });
});
