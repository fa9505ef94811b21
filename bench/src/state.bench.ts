// @mk/state save latency beside the floor, in the same run.
//
// Floor: the same durable-replace protocol with no encoding and no crypto, writing
// the same number of bytes as mk's sealed file: temp file (O_CREAT|O_EXCL), write,
// fsync, close, rename, fsync(dir). Two floors: the callback fs API (what the store
// uses, so it does not block the event loop) and the sync API (the lowest possible
// cost, but it stalls the event loop for every fsync). Rounds interleave mk and the
// floors so machine noise hits all alike; we quote the median of the per-round medians.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measure } from "mitata";
import { AesGcmCrypter } from "@mk/crypto";
import { FileStateStore } from "@mk/state";
import { stateOf } from "./helpers.ts";

const ROUNDS = Number(process.env["ROUNDS"] ?? 9);
const root = mkdtempSync(join(tmpdir(), "mk-bench-state-"));
const C = fs.constants;
const TEMP_FLAGS = C.O_CREAT | C.O_EXCL | C.O_WRONLY | (C.O_NOFOLLOW ?? 0);

const cb = {
  open: (p: string, flags: number, mode: number) =>
    new Promise<number>((res, rej) => fs.open(p, flags, mode, (e, fd) => (e ? rej(e) : res(fd)))),
  write: (fd: number, b: Uint8Array) =>
    new Promise<number>((res, rej) => fs.write(fd, b, 0, b.length, null, (e, n) => (e ? rej(e) : res(n)))),
  fsync: (fd: number) => new Promise<void>((res, rej) => fs.fsync(fd, (e) => (e ? rej(e) : res()))),
  close: (fd: number) => new Promise<void>((res, rej) => fs.close(fd, (e) => (e ? rej(e) : res()))),
  rename: (a: string, b: string) => new Promise<void>((res, rej) => fs.rename(a, b, (e) => (e ? rej(e) : res()))),
};

let seq = 0;
async function floorAsync(dir: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `.floor.${seq++}.tmp`);
  const fd = await cb.open(tmp, TEMP_FLAGS, 0o600);
  for (let off = 0; off < bytes.length;) off += await cb.write(fd, off === 0 ? bytes : bytes.subarray(off));
  await cb.fsync(fd);
  await cb.close(fd);
  await cb.rename(tmp, join(dir, "floor.state"));
  const dfd = await cb.open(dir, C.O_RDONLY, 0);
  await cb.fsync(dfd);
  await cb.close(dfd);
}

function floorSync(dir: string, bytes: Uint8Array): void {
  const tmp = join(dir, `.floor.${seq++}.tmp`);
  const fd = fs.openSync(tmp, TEMP_FLAGS, 0o600);
  for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off, bytes.length - off);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, join(dir, "floor.state"));
  const dfd = fs.openSync(dir, C.O_RDONLY);
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const ms = (ns: number): string => (ns / 1e6).toFixed(3) + " ms";

async function scenario(label: string, stateBytes: number, cpuTimeNs: number): Promise<void> {
  const dir = join(root, label);
  const store = new FileStateStore(dir, new AesGcmCrypter(randomBytes(32)));
  const state = stateOf(stateBytes);
  await store.save("svc", state);
  const fileBytes = readFileSync(join(dir, "svc.state")).length;
  const floorDir = join(root, `${label}-floor`);
  fs.mkdirSync(floorDir, { mode: 0o700 });
  const payload = randomBytes(fileBytes);
  const opts = { min_cpu_time: cpuTimeNs, max_samples: 5000, min_samples: 20 };
  // The CPU part alone (JSON + seal, no disk), to tell encoding/crypto cost from disk noise.
  const sealer = new AesGcmCrypter(randomBytes(32));
  const aad = new TextEncoder().encode("svc");
  const cpu = await measure(() => sealer.encrypt(new TextEncoder().encode(JSON.stringify(state)), aad), opts);
  const mk: number[] = [];
  const fa: number[] = [];
  const fsn: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    fa.push((await measure(() => floorAsync(floorDir, payload), opts)).p50);
    mk.push((await measure(() => store.save("svc", state), opts)).p50);
    fsn.push((await measure(() => floorSync(floorDir, payload), opts)).p50);
  }
  // Per-round ratios pair each mk figure with the floor measured next to it, which cancels slow drifts in load.
  const ratioAsync = median(mk.map((m, i) => m / (fa[i] ?? m)));
  const ratioSync = median(mk.map((m, i) => m / (fsn[i] ?? m)));
  const mkMed = median(mk);
  const faMed = median(fa);
  const fsMed = median(fsn);
  process.stdout.write(
    `\n${label} state (${fileBytes} bytes on disk), median of ${ROUNDS} per-round medians:\n` +
      `  mk FileStateStore.save            ${ms(mkMed).padStart(12)}   rounds: ${mk.map(ms).join(", ")}\n` +
      `  floor, callback fs (same API)     ${ms(faMed).padStart(12)}   ratio mk/floor = ${ratioAsync.toFixed(2)}x (median of per-round ratios)\n` +
      `  floor, sync fs (blocks the loop)  ${ms(fsMed).padStart(12)}   ratio mk/floor = ${ratioSync.toFixed(2)}x\n` +
      `  of which CPU: stringify + seal     ${ms(cpu.p50).padStart(12)}   (no disk; mk adds its value checks on top)\n`,
  );
}

try {
  await scenario("4KiB", 4 * 1024, 150e6);
  await scenario("1MiB", 1024 * 1024, 300e6);
  process.stdout.write("\ngoal: mk <= 1.5x the floor at 4 KiB\n");
} finally {
  rmSync(root, { recursive: true, force: true });
}
