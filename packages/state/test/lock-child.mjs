// Child process of dir-lock.test.ts: opens a FileStateStore on a directory (which takes
// its lock) and reports on stdout, then holds it until stdin closes or it is killed.
// Plain node against the BUILT package, so the lock is what a real second process sees.
//   node lock-child.mjs <dir> hold     -> "held <pid>" | "locked <holderPid> <code>" | "error <code> <message>"
//   node lock-child.mjs <dir> cycles N -> N times: open, enter the critical file (O_EXCL), leave, close;
//                                         "violation" if the critical file was already there; "done <entered>"
import { closeSync, constants, openSync, unlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { FileStateStore } from "../dist/index.js";

const [dir, mode, count] = process.argv.slice(2);
const crypter = { encrypt: async (b) => b, decrypt: async (b) => b };
const say = (line) => process.stdout.write(`${line}\n`);

if (mode === "hold") {
  const store = new FileStateStore(dir, crypter);
  try {
    await store.list();
    say(`held ${process.pid}`);
    process.stdin.resume();
    process.stdin.on("end", async () => {
      await store.close();
      say("released");
      process.exit(0);
    });
  } catch (error) {
    if (error.code === "STATE_LOCKED") say(`locked ${error.holderPid} ${error.code} ${error.message}`);
    else say(`error ${error.code} ${error.message}`);
    process.exit(0);
  }
} else if (mode === "cycles") {
  const critical = `${dir}.critical`;
  let entered = 0;
  for (let i = 0; i < 400 && entered < Number(count); i++) {
    const store = new FileStateStore(dir, crypter);
    try {
      await store.list();
    } catch (error) {
      await store.close();
      if (error.code !== "STATE_LOCKED") throw error;
      await sleep(Math.random() * 10);
      continue;
    }
    let fd;
    try {
      fd = openSync(critical, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
    } catch {
      say("violation");
      process.exit(1);
    }
    await store.save("counter", { pid: process.pid, i });
    closeSync(fd);
    unlinkSync(critical);
    entered++;
    await store.close();
    await sleep(Math.random() * 5);
  }
  say(`done ${entered}`);
}
