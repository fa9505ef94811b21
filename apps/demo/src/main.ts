#!/usr/bin/env node
// mk-demo: the reference scenario, end to end. See README.md.
import { createLogger } from "@mk/logger";
import type { Logger } from "@mk/logger";
import { DemoError, describeError } from "./errors.ts";
import { parseOptions, USAGE, userDirectory } from "./options.ts";
import { demoSink } from "./output.ts";
import { runScenario } from "./scenario.ts";

async function main(): Promise<number> {
  // The level is only known after parsing, and a parse error is logged too.
  const root = createLogger({ service: "demo", level: "info", sinks: [demoSink()] });
  try {
    const options = parseOptions(process.argv.slice(2), process.env, userDirectory(process.env, process.cwd()));
    if (options.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    root.level = options.level;
    await runScenario(options, root);
    return 0;
  } catch (error) {
    return report(error, root);
  } finally {
    await root.close();
  }
}

/** One ERROR line: what failed and what to do, never a stack trace. */
function report(error: unknown, root: Logger): number {
  const log = root.child("demo");
  if (error instanceof DemoError) {
    log.error("%s%s", error.message, error.hint === undefined ? "" : ` (${error.hint})`);
    return error.exitCode;
  }
  log.error("the demo failed: %s", describeError(error));
  return 1;
}

process.exitCode = await main();
