// Per-message CPU of one 4 KiB state envelope: AesGcmCrypter's seal and open (the open given a
// Buffer, as pg and NATS hand it over) beside bare node:crypto AES-256-GCM (createCipheriv /
// createDecipheriv, random nonce, nonce || ct || tag: the floor; its nonces come from a batch
// drawn up front, as mk's do, so the floor does not pay a CSPRNG call per message), µs per call. Two settings:
// back to back (hot caches) and after evicting the caches between calls (8 MiB touched and a
// small JSON round trip, roughly what a database round trip leaves behind), which is where a
// store's save and load actually run. Samples interleave the subjects call by call so machine
// noise hits all alike; each figure is the median over rounds of each round's p50.
//
//   pnpm build && pnpm bench crypto-envelope
//   BEFORE=/path/to/an/older/packages/crypto/dist/index.js pnpm bench crypto-envelope   (A/B in one run)
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from "node:crypto";
import * as current from "@mk/crypto";
import { stateOf } from "./helpers.ts";

const ROUNDS = Number(process.env["ROUNDS"] ?? 5);
const SAMPLES = Number(process.env["SAMPLES"] ?? 200);
const SIZE = 4096;

type CryptoModule = Pick<typeof current, "AesGcmCrypter">;
type Call = () => unknown;

const key = randomBytes(32);
const ad = new TextEncoder().encode("state/echo");
const plaintext = Uint8Array.from(randomBytes(SIZE));

const nonces = randomBytes(12 * 4096);
let nonceAt = 0;
function nodeSeal(input: Uint8Array): Buffer {
  if (nonceAt + 12 > nonces.length) {
    randomFillSync(nonces);
    nonceAt = 0;
  }
  const nonce = nonces.subarray(nonceAt, (nonceAt += 12));
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(ad);
  const body = cipher.update(input);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}
function nodeOpen(sealed: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  decipher.setAAD(ad);
  const body = decipher.update(sealed.subarray(12, sealed.length - 16));
  decipher.final();
  return body;
}

async function subjectsOf(name: string, mod: CryptoModule): Promise<[string, Call][]> {
  const crypter = new mod.AesGcmCrypter(key);
  const sealed = Buffer.from(await crypter.encrypt(plaintext, ad));
  return [
    [`${name} seal`, () => crypter.encrypt(plaintext, ad)],
    [`${name} open`, () => crypter.decrypt(sealed, ad)],
  ];
}

const floorSealed = nodeSeal(plaintext);
const subjects: [string, Call][] = [
  ["node:crypto seal", () => nodeSeal(plaintext)],
  ["node:crypto open", () => nodeOpen(floorSealed)],
  ...(await subjectsOf("mk", current)),
];
const before = process.env["BEFORE"];
if (before !== undefined && before !== "") {
  subjects.push(...(await subjectsOf("mk before", (await import(before)) as CryptoModule)));
}

const trash = new Uint8Array(8 << 20);
const doc = stateOf(2048);
let sink = 0;
/** Evicts the caches the way a database round trip does: memory traffic and unrelated code. */
function evictCaches(): void {
  for (let i = 0; i < trash.length; i += 64) trash[i] = (trash[i] ?? 0) + 1;
  sink += JSON.stringify(JSON.parse(JSON.stringify(doc))).length;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function measure(cold: boolean): Promise<Map<string, number>> {
  const perRound = new Map<string, number[]>(subjects.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const samples = new Map<string, number[]>(subjects.map(([name]) => [name, []]));
    for (let i = 0; i < SAMPLES; i++) {
      for (let j = 0; j < subjects.length; j++) {
        // Rotate the order so no subject always follows the same one.
        const [name, call] = subjects[(i + j) % subjects.length] ?? subjects[0] ?? ["", () => undefined];
        if (cold) evictCaches();
        const t0 = process.hrtime.bigint();
        await call();
        samples.get(name)?.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
    for (const [name, xs] of samples) perRound.get(name)?.push(median(xs));
  }
  return new Map([...perRound].map(([name, xs]) => [name, median(xs)]));
}

// Warm-up: every subject JIT-compiled before anything is timed.
for (let i = 0; i < 300; i++) for (const [, call] of subjects) await call();
const results = [
  ["back to back", await measure(false)],
  ["caches evicted between calls", await measure(true)],
] as const;

process.stdout.write(
  `\n4 KiB envelope, µs per call (median over ${ROUNDS} rounds of each round's p50, ${SAMPLES} samples per subject per round)\n`,
);
for (const [setting, figures] of results) {
  process.stdout.write(`\n${setting}\n`);
  for (const op of ["seal", "open"]) {
    const floor = figures.get(`node:crypto ${op}`) ?? 0;
    for (const [name] of subjects.filter(([n]) => n.endsWith(op))) {
      const us = figures.get(name) ?? 0;
      process.stdout.write(
        `  ${name.padEnd(20)} ${us.toFixed(1).padStart(7)} µs  ${(us / floor).toFixed(2).padStart(5)}x node:crypto  (${us >= floor ? "+" : ""}${(us - floor).toFixed(1)} µs)\n`,
      );
    }
  }
}
if (sink < 0) process.stdout.write("unreachable\n");
