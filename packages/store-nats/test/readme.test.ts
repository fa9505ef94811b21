// The README's usage example, run as written against a real nats-server.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNats, type NatsServer } from "@mk/test-servers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, `.readme-example-${process.pid}.ts`);
let server: NatsServer;

beforeAll(async () => {
  server = await startNats({ jetstream: true });
});

afterAll(async () => {
  rmSync(script, { force: true });
  await server?.stop();
});

describe("README usage example", () => {
  it("runs against a real nats-server and prints what its comments say", async () => {
    const readme = readFileSync(join(here, "..", "README.md"), "utf8");
    const block = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    if (block === undefined) throw new Error("no usage example in README.md");
    writeFileSync(script, block);
    const printed: unknown[][] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args));
    const saved = process.env["NATS_URL"];
    process.env["NATS_URL"] = server.url;
    try {
      await import(script);
    } finally {
      log.mockRestore();
      if (saved === undefined) delete process.env["NATS_URL"];
      else process.env["NATS_URL"] = saved;
    }
    expect(printed).toEqual([[{ count: 1 }, "1.0.0", 0], ["STATE_CONFLICT"], ["STATE_FENCED"], [["echo"]]]);
  });
});
