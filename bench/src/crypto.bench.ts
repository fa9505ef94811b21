// Sealing one state blob: mk's AesGcmCrypter on each AES-GCM backend (pure-JS noble,
// noble's WebCrypto wrapper, and the size-picked default) beside node:crypto
// AES-256-GCM (createCipheriv, random nonce, nonce || ct || tag: the floor), at
// 1 KiB, 4 KiB, 64 KiB and 1 MiB (mk seals 1 MiB in 256 KiB segments). Also:
// the Pure-JS/WebCrypto crossover, the longest event-loop block per
// encryption, and what the envelope (header, HKDF-SHA256 subkey, commitment,
// AAD) costs over the bare cipher at 4 KiB (LegacyAesGcmCrypter is the bare
// cipher on the same backend). Medians over several interleaved rounds.
//
//   pnpm build && pnpm bench crypto
import { createCipheriv, randomBytes } from "node:crypto";
import { AesGcmCrypter, LegacyAesGcmCrypter, type CipherBackend } from "@mk/crypto";
import { bench, group, run } from "mitata";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const BYTES_PER_SAMPLE = Number(process.env.BYTES_PER_SAMPLE ?? 4 * 1024 * 1024);
const BLOCK_SAMPLES = Number(process.env.BLOCK_SAMPLES ?? 40);
const SIZES = [1024, 4096, 64 * 1024, 1024 * 1024];

type Seal = (plaintext: Uint8Array) => Promise<Uint8Array> | Uint8Array;

const key = randomBytes(32);
const ad = new TextEncoder().encode("echo");

function nodeSeal(plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(ad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

const mk = (backend: CipherBackend | "auto"): AesGcmCrypter => new AesGcmCrypter(key, { backend });
const legacy = (backend: CipherBackend): LegacyAesGcmCrypter => new LegacyAesGcmCrypter(key, { backend });
const crypters = {
  js: mk("js"),
  webcrypto: mk("webcrypto"),
  auto: mk("auto"),
  legacyJs: legacy("js"),
  legacyWeb: legacy("webcrypto"),
};

const subjects: [string, Seal][] = [
  ["node:crypto AES-256-GCM (floor)", nodeSeal],
  ["mk AesGcmCrypter, auto (default)", (p) => crypters.auto.encrypt(p, ad)],
  ["mk AesGcmCrypter, js", (p) => crypters.js.encrypt(p, ad)],
  ["mk AesGcmCrypter, webcrypto", (p) => crypters.webcrypto.encrypt(p, ad)],
  ["bare cipher: Legacy, js", (p) => crypters.legacyJs.encrypt(p, ad)],
  ["bare cipher: Legacy, webcrypto", (p) => crypters.legacyWeb.encrypt(p, ad)],
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** MB/s (10^6 bytes) for back-to-back awaited encryptions, one at a time (how a store saves). */
async function throughput(seal: Seal, plaintext: Uint8Array): Promise<number> {
  const n = Math.max(20, Math.floor(BYTES_PER_SAMPLE / plaintext.length));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await seal(plaintext);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return (n * plaintext.length) / seconds / 1e6;
}

/**
 * Longest stretch the event loop could not turn during each encryption, in ms: a
 * setImmediate ticker records the gaps between its turns, and each encryption starts from
 * its own macrotask (so back-to-back pure-JS calls are not chained in one microtask run).
 * One value per encryption: take its median, since a noisy shared machine can deschedule
 * the process in any slice. The ticker's own idle gap is a few µs.
 */
async function blockPerEncryption(seal: Seal, plaintext: Uint8Array): Promise<{ stall: number; call: number }[]> {
  const out: { stall: number; call: number }[] = [];
  let running = true;
  let last = performance.now();
  let worst = 0;
  const tick = (): void => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  for (let i = 0; i < BLOCK_SAMPLES; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    worst = 0;
    last = performance.now();
    const t0 = performance.now();
    const pending = seal(plaintext);
    const call = performance.now() - t0; // the synchronous part of the call itself
    await pending;
    // One more turn so the ticker sees the slice that resolved the promise.
    await new Promise<void>((resolve) => setImmediate(resolve));
    out.push({ stall: worst, call });
  }
  running = false;
  return out;
}

// The same probe around a 1 ms idle wait (no crypto): the stalls a loaded machine causes by itself.
const idle: Seal = () => new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(new Uint8Array(0)), 1));

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0;
};

const plaintexts = new Map(SIZES.map((size) => [size, Uint8Array.from(randomBytes(size))]));
const rates = new Map<string, number[]>();
const blocks = new Map<string, number[]>();
const calls = new Map<string, number[]>();
const push = (map: Map<string, number[]>, k: string, v: number): void => {
  (map.get(k) ?? map.set(k, []).get(k))?.push(v);
};

// Warm up every subject at every size.
for (const [, seal] of subjects) for (const p of plaintexts.values()) await throughput(seal, p);
for (let round = 0; round < ROUNDS; round++) {
  for (const [size, plaintext] of plaintexts) {
    for (const [name, seal] of subjects) {
      globalThis.gc?.();
      push(rates, `${name}@${size}`, await throughput(seal, plaintext));
      for (const { stall, call } of await blockPerEncryption(seal, plaintext)) {
        push(blocks, `${name}@${size}`, stall);
        push(calls, `${name}@${size}`, call);
      }
    }
  }
}

const label = (size: number): string => (size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`);
const floorName = subjects[0]?.[0] ?? "";
process.stdout.write(
  `\nencrypt, medians of ${ROUNDS} rounds (~${BYTES_PER_SAMPLE >> 20} MiB per sample); block = longest event-loop stall per encryption (ms, p50 and p90 over ${ROUNDS * BLOCK_SAMPLES} encryptions; on a loaded machine it includes time the OS gave other processes); sync call = ms until encrypt() returns its promise\n`,
);
process.stdout.write(
  `${"subject".padEnd(34)} ${"size".padStart(7)} ${"MB/s".padStart(8)} ${"µs/op".padStart(9)} ${"x node".padStart(7)} ${"block p50".padStart(10)} ${"p90 ms".padStart(8)} ${"sync call p50".padStart(14)}\n`,
);
for (const size of SIZES) {
  const floor = median(rates.get(`${floorName}@${size}`) ?? []);
  for (const [name] of subjects) {
    const rate = median(rates.get(`${name}@${size}`) ?? []);
    const b = blocks.get(`${name}@${size}`) ?? [];
    process.stdout.write(
      `${name.padEnd(34)} ${label(size).padStart(7)} ${rate.toFixed(1).padStart(8)} ${(size / rate).toFixed(1).padStart(9)} ${(rate / floor).toFixed(2).padStart(7)} ${quantile(b, 0.5).toFixed(3).padStart(10)} ${quantile(b, 0.9).toFixed(3).padStart(8)} ${quantile(
        calls.get(`${name}@${size}`) ?? [],
        0.5,
      )
        .toFixed(3)
        .padStart(14)}\n`,
    );
  }
}

// Envelope overhead at 4 KiB: (envelope time - bare cipher time) / bare cipher time on the same
// backend, LegacyAesGcmCrypter being the bare cipher. Paired A/B rounds (mk, bare, mk, bare, ...)
// and the median of the per-round ratios, so load drift on a shared machine cancels out.
/** Nanoseconds for `n` sequential encryptions of `plaintext`. */
async function timeSeals(seal: Seal, plaintext: Uint8Array, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await seal(plaintext);
  return Number(process.hrtime.bigint() - t0);
}
async function pairedOverhead(a: Seal, b: Seal, plaintext: Uint8Array, pairs = 60, n = 100): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const ta = await timeSeals(a, plaintext, n);
    const tb = await timeSeals(b, plaintext, n);
    ratios.push((ta - tb) / tb);
  }
  return median(ratios);
}
const p4k = plaintexts.get(4096) ?? new Uint8Array(4096);
const ohJs = await pairedOverhead(
  (p) => crypters.js.encrypt(p, ad),
  (p) => crypters.legacyJs.encrypt(p, ad),
  p4k,
);
const ohWeb = await pairedOverhead(
  (p) => crypters.webcrypto.encrypt(p, ad),
  (p) => crypters.legacyWeb.encrypt(p, ad),
  p4k,
);
// Speed vs node:crypto, paired the same way (ratio of times, node / mk: higher is better for mk).
async function pairedSpeed(mkSeal: Seal, nodeSeal_: Seal, plaintext: Uint8Array, pairs = 30): Promise<number> {
  const n = Math.max(4, Math.floor((256 * 1024) / plaintext.length));
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const tMk = await timeSeals(mkSeal, plaintext, n);
    const tNode = await timeSeals(nodeSeal_, plaintext, n);
    ratios.push(tNode / tMk);
  }
  return median(ratios);
}
const paired = new Map<number, number>();
for (const size of [65536, 1 << 20]) {
  paired.set(
    size,
    await pairedSpeed((p) => crypters.auto.encrypt(p, ad), nodeSeal, plaintexts.get(size) ?? new Uint8Array(size)),
  );
}
const autoVsNode = (size: number): string => (paired.get(size) ?? 0).toFixed(2);
const idleBlocks = (await blockPerEncryption(idle, new Uint8Array(0))).map((b) => b.stall);
for (let round = 1; round < ROUNDS; round++)
  idleBlocks.push(...(await blockPerEncryption(idle, new Uint8Array(0))).map((b) => b.stall));
process.stdout.write(
  `\nnoise floor: the block probe around a 1 ms idle wait (no crypto): p50 ${quantile(idleBlocks, 0.5).toFixed(3)} ms, p90 ${quantile(idleBlocks, 0.9).toFixed(3)} ms\n`,
);
const worstAutoBlock = Math.max(
  ...SIZES.map((s) => quantile(blocks.get(`mk AesGcmCrypter, auto (default)@${s}`) ?? [], 0.5)),
);
process.stdout.write(
  `\nenvelope overhead at 4 KiB (header + HKDF-SHA256 + commitment + AAD, vs the bare cipher on the same backend): js ${(ohJs * 100).toFixed(1)}%, webcrypto ${(ohWeb * 100).toFixed(1)}%\n` +
    `goals: auto >= 0.4x node at 64 KiB (${autoVsNode(65536)}x) and 1 MiB (${autoVsNode(1 << 20)}x) [paired A/B rounds, median]; ` +
    `auto block <= 1 ms at every size (worst size, p50: ${worstAutoBlock.toFixed(3)} ms); envelope overhead < 20% at 4 KiB (js ${(ohJs * 100).toFixed(1)}%, webcrypto ${(ohWeb * 100).toFixed(1)}%)\n`,
);

// Where pure JS stops being faster than WebCrypto (this sets DEFAULT_WEBCRYPTO_THRESHOLD).
if (process.env.CROSSOVER !== "0") {
  const sizes = [512, 1024, 2048, 3072, 4096, 6144, 8192, 16384];
  const runs = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of sizes) {
      const p = Uint8Array.from(randomBytes(size));
      for (const backend of ["js", "webcrypto"] as const) {
        const rate = await throughput((x) => crypters[backend].encrypt(x, ad), p);
        push(runs, `${backend}@${size}`, size / rate);
      }
    }
  }
  process.stdout.write(`\ncrossover, µs per encrypt (median of ${ROUNDS}): size, js, webcrypto, js/webcrypto\n`);
  for (const size of sizes) {
    const js = median(runs.get(`js@${size}`) ?? []);
    const web = median(runs.get(`webcrypto@${size}`) ?? []);
    process.stdout.write(
      `${String(size).padStart(6)} ${js.toFixed(1).padStart(9)} ${web.toFixed(1).padStart(9)} ${(js / web).toFixed(2).padStart(6)}\n`,
    );
  }
}

// mitata cross-check (its own per-iteration cost included).
if (process.env.MITATA !== "0") {
  for (const size of SIZES) {
    const plaintext = plaintexts.get(size) ?? new Uint8Array(size);
    group(label(size), () => {
      for (const [name, seal] of subjects.slice(0, 4)) bench(`${name} ${label(size)}`, () => seal(plaintext));
    });
  }
  await run({ format: "mitata" });
}
