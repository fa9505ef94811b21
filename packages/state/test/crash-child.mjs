// Child process of crash.test.ts: saves a growing counter in a loop until SIGKILLed.
// Plain node against the BUILT packages, so nothing (vitest, tsx) sits between the
// store and the kernel's view of the file system.
import { FileStateStore } from "../dist/index.js";
import { AesGcmCrypter } from "../../crypto/dist/index.js";

const [dir, key] = process.argv.slice(2);
// Varied sizes so a kill lands in writes of one page, a few pages and many pages.
const SIZES = [16, 4096, 65536, 300000, 1000];

const store = new FileStateStore(dir, new AesGcmCrypter(key));
const loaded = await store.load("crash");
let counter = loaded === undefined ? 0 : loaded.state.counter;
process.stdout.write(`ready ${counter}\n`);
for (;;) {
  counter += 1;
  const size = SIZES[counter % SIZES.length];
  const fill = String.fromCharCode(97 + (counter % 26));
  await store.save("crash", { counter, size, fill, data: fill.repeat(size) }, { version: `v${counter}` });
  // Synchronous on Linux pipes: once written, the parent sees it even after SIGKILL.
  process.stdout.write(`saved ${counter}\n`);
}
