#!/usr/bin/env node
// The `mk` binary: see `mk --help` and the package README.
import { main } from "./cli.ts";

const code = await main(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
// Explicit: a service that leaves a timer or a socket behind must not keep `mk` alive after a clean stop.
process.stdout.write("", () => process.exit(code));
