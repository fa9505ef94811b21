// Lines/s to /dev/null for the same message ("handled request %d" with an int),
// one logger after the other in interleaved rounds, medians over ROUNDS:
// mk text sink, mk JSON sink, pino 10 with a sync and an async destination,
// console.log (a Console on /dev/null; the terminal is never written), and a raw
// writeSync of a constant line per call (the one-syscall-per-line floor).
// Each sample is bursts of 1000 lines, each burst followed by one setImmediate
// (so tick-buffered sinks flush inside the timed region); async destinations
// are flushed inside it too. Then, with mitata: the cost of a filtered-out
// debug call (mk vs pino), and one info call per iteration.
//
//   pnpm build && pnpm bench logger
import { openSync, writeSync } from "node:fs";
import { Console } from "node:console";
import { Writable } from "node:stream";
import { createLogger, jsonSink, textSink } from "@mk/logger";
import { bench, do_not_optimize, group, run } from "mitata";
import { pino } from "pino";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const BURSTS = Number(process.env.BURSTS ?? 50);
const BURST = 1000;

const devNull = openSync("/dev/null", "w");
const MSG = "handled request %d";

const mkText = createLogger({ service: "kernel", sinks: [textSink(devNull)] }).child("svc");
const mkJson = createLogger({ service: "kernel", sinks: [jsonSink(devNull)] }).child("svc");
const pinoSyncDest = pino.destination({ dest: "/dev/null", sync: true });
const pinoSync = pino(pinoSyncDest).child({ service: "svc" });
const pinoAsyncDest = pino.destination({ dest: "/dev/null", sync: false });
const pinoAsync = pino(pinoAsyncDest).child({ service: "svc" });
// What console.log does when stdout is a file: a synchronous write per call.
const nullStream = new Writable({
  write(chunk: Buffer, _encoding, callback): void {
    writeSync(devNull, chunk);
    callback();
  },
});
const nullConsole = new Console({ stdout: nullStream, stderr: nullStream });
const RAW_LINE = "[2025-04-26 19:47:00.801] [INFO] [svc] handled request 12345\n";

interface Subject {
  name: string;
  line: (i: number) => void;
  drain?: () => void | Promise<void>;
}

const subjects: Subject[] = [
  { name: "pino 10, sync destination", line: (i) => pinoSync.info(MSG, i) },
  { name: "mk text sink", line: (i) => mkText.info(MSG, i), drain: () => mkText.flush() },
  { name: "mk JSON sink", line: (i) => mkJson.info(MSG, i), drain: () => mkJson.flush() },
  { name: "pino 10, async destination", line: (i) => pinoAsync.info(MSG, i), drain: () => pinoAsyncDest.flushSync() },
  { name: "console.log (sync write/line)", line: (i) => nullConsole.log("[INFO] [svc] handled request %d", i) },
  { name: "raw writeSync per line (floor)", line: () => writeSync(devNull, RAW_LINE) },
];

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function linesPerSecond(subject: Subject): Promise<number> {
  const t0 = process.hrtime.bigint();
  let i = 0;
  for (let b = 0; b < BURSTS; b++) {
    for (let k = 0; k < BURST; k++) subject.line(i++);
    await tick();
  }
  await subject.drain?.();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return i / seconds;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

// Warm-up: a round that is not counted.
for (const s of subjects) await linesPerSecond(s);
const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const s of subjects) samples.get(s.name)?.push(await linesPerSecond(s));
}

const base = median(samples.get("pino 10, sync destination") ?? []);
process.stdout.write(`\nLines/s to /dev/null, "${MSG}", median of ${ROUNDS} rounds × ${BURSTS}×${BURST} lines\n`);
process.stdout.write(
  `${"logger".padEnd(34)}${"lines/s".padStart(10)}${"ns/line".padStart(10)}${"× pino sync".padStart(13)}\n`,
);
for (const s of subjects) {
  const m = median(samples.get(s.name) ?? []);
  process.stdout.write(
    `${s.name.padEnd(34)}${(m / 1e6).toFixed(2).padStart(8)} M${(1e9 / m).toFixed(0).padStart(10)}${(m / base).toFixed(2).padStart(12)}×\n`,
  );
}
process.stdout.write("\n");

// Per-call costs (mitata). The filtered-out debug call should be a few ns.
const mkQuiet = createLogger({ service: "kernel", level: "info", sinks: [textSink(devNull)] }).child("svc");
const pinoQuiet = pino({ level: "info" }, pinoSyncDest).child({ service: "svc" });
let n = 0;
group("filtered-out debug call (level info)", () => {
  bench("empty function call (floor)", () => do_not_optimize(noop(MSG, n++)));
  bench("mk logger.debug", () => mkQuiet.debug(MSG, n++));
  bench("pino logger.debug", () => pinoQuiet.debug(MSG, n++));
});
group("one info line to /dev/null, per call", () => {
  bench("mk text sink", () => mkText.info(MSG, n++));
  bench("mk JSON sink", () => mkJson.info(MSG, n++));
  bench("pino sync destination", () => pinoSync.info(MSG, n++));
});
function noop(_msg: string, _i: number): number {
  return _i;
}
await run();
await mkText.close();
await mkJson.close();
pinoAsyncDest.flushSync();
