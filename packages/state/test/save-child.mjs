// Child process of fault-injection.test.ts: opens the store (which takes the lock and
// lists the directory), says "ready", waits for a line on stdin (the parent attaches
// strace meanwhile), then saves once and reports.
// Plain node against the BUILT package.
//   node save-child.mjs <dir>   -> "ready", then "saved" | "error <code> <message>"
import { FileStateStore } from "../dist/index.js";

const [dir] = process.argv.slice(2);
const crypter = { encrypt: async (b) => b, decrypt: async (b) => b };
const store = new FileStateStore(dir, crypter);
await store.list();
process.stdout.write("ready\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
try {
  await store.save("echo", { n: 2 });
  process.stdout.write("saved\n");
} catch (error) {
  process.stdout.write(`error ${error.code} ${error.message}\n`);
}
await store.close();
process.exit(0);
