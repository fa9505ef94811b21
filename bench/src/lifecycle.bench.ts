// startAll + stopAll of 1,000 and 10,000 no-op services on random DAGs
// (~3 dependencies each), mk's kernel beside the floor in the same run:
// a bare recursive DFS topological sort (3 colours, cycle and missing
// dependency checks) plus level-by-level Promise.all of the no-op starts,
// then the same levels reversed for the stops. Medians over several rounds.
//
// Timing is done here rather than with mitata's measure(): measure() runs one
// subject for a long stretch and then the other, and on this shared machine
// (2 cores, other test suites running) the two stretches saw different load,
// giving ratios that swung 5x between runs. Interleaving single runs of each,
// with the event loop turning before each, exposes both to the same load.
//
// mk sorts once per iteration too: the bench changes the registry between
// iterations so the kernel's cached plan is recomputed (see below).
//
// The kernel's logger has level "warn" and a no-op sink, so its per-service
// info lines ("started x") are filtered out and logging does not dominate.
//
//   pnpm build && pnpm bench lifecycle
import { Kernel, type Service } from "@mk/core";
import { createLogger } from "@mk/logger";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
/** Interleaved runs per round. */
const RUNS = Number(process.env.RUNS ?? 0);
const SIZES = (process.env.SIZES ?? "1000,10000").split(",").map(Number);
const SHAPES = ["wide", "deep"] as const;

interface Node {
  name: string;
  deps: string[];
}

/** Deterministic PRNG (mulberry32), so every run plans the same graphs. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** "wide": 3 deps uniform over all earlier nodes (few levels); "deep": among the 10 preceding (long chains). Shuffled registration. */
function dag(n: number, shape: (typeof SHAPES)[number], seed = 42): Node[] {
  const random = rng(seed);
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set<number>();
    const span = shape === "wide" ? i : Math.min(i, 10);
    while (deps.size < Math.min(3, span)) deps.add(i - 1 - Math.floor(random() * span));
    nodes.push({ name: `svc-${i}`, deps: [...deps].map((d) => `svc-${d}`) });
  }
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [nodes[i], nodes[j]] = [nodes[j] as Node, nodes[i] as Node];
  }
  return nodes;
}

// ---- the floor -------------------------------------------------------------
interface FloorService {
  name: string;
  deps: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

function floorSort(services: FloorService[]): FloorService[][] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const colour = new Map<string, number>();
  const level = new Map<string, number>();
  let max = 0;
  const visit = (s: FloorService): number => {
    const c = colour.get(s.name);
    if (c === 2) return level.get(s.name) as number;
    if (c === 1) throw new Error(`cycle at ${s.name}`);
    colour.set(s.name, 1);
    let l = 0;
    for (const d of s.deps) {
      const dep = byName.get(d);
      if (dep === undefined) throw new Error(`${s.name} needs ${d}`);
      l = Math.max(l, visit(dep) + 1);
    }
    colour.set(s.name, 2);
    level.set(s.name, l);
    if (l > max) max = l;
    return l;
  };
  for (const s of services) visit(s);
  const levels: FloorService[][] = Array.from({ length: max + 1 }, () => []);
  for (const s of services) (levels[level.get(s.name) as number] as FloorService[]).push(s);
  return levels;
}

async function floorStartStop(services: FloorService[]): Promise<void> {
  const levels = floorSort(services);
  for (const level of levels) await Promise.all(level.map((s) => s.start()));
  for (let i = levels.length - 1; i >= 0; i--) await Promise.all((levels[i] as FloorService[]).map((s) => s.stop()));
}

// ---- the run ---------------------------------------------------------------
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;

process.stdout.write(
  `startAll + stopAll of no-op services (async start/stop), ${ROUNDS} rounds, medians of per-round p50.\n` +
    `Kernel logger: level "warn", no-op sink (info lines filtered). Floor: DFS sort + level-by-level Promise.all.\n\n`,
);

const rows: string[] = [];
const dummy: Service = { name: "plan-invalidator" };
for (const n of SIZES) {
  for (const shape of SHAPES) {
    const nodes = dag(n, shape);
    const floorServices: FloorService[] = nodes.map((x) => ({
      name: x.name,
      deps: x.deps,
      start: async () => {},
      stop: async () => {},
    }));
    const kernel = new Kernel({
      logger: createLogger({ level: "warn", sinks: [() => undefined] }),
      checkpointIntervalMs: 0,
    });
    for (const x of nodes) {
      const service: Service = { name: x.name, dependencies: x.deps, start: async () => {}, stop: async () => {} };
      await kernel.register(service);
    }
    const levels = floorSort(floorServices).length;
    const floor: number[] = [];
    const mk: number[] = [];
    const floorMin: number[] = [];
    const mkMin: number[] = [];
    const runs = RUNS > 0 ? RUNS : n >= 10_000 ? 15 : 60;
    const mkOnce = async (): Promise<void> => {
      // The kernel keeps its start plan until the registry changes (stopAll reuses
      // startAll's). A registration change per iteration makes it sort once per
      // iteration, like the floor; its cost is counted against mk.
      await kernel.register(dummy);
      await kernel.unregister(dummy.name);
      await kernel.startAll();
      await kernel.stopAll();
    };
    // Warm both up (JIT) before measuring.
    for (let i = 0; i < 5; i++) {
      await floorStartStop(floorServices);
      await mkOnce();
    }
    for (let round = 0; round < ROUNDS; round++) {
      const f: number[] = [];
      const k: number[] = [];
      for (let run = 0; run < runs; run++) {
        // Alternate which goes first, and let the event loop turn (timers, GC tasks) before each.
        for (const which of run % 2 === 0 ? ["floor", "mk"] : ["mk", "floor"]) {
          await new Promise((r) => setImmediate(r));
          const t0 = performance.now();
          if (which === "floor") await floorStartStop(floorServices);
          else await mkOnce();
          (which === "floor" ? f : k).push(performance.now() - t0);
        }
      }
      floor.push(median(f));
      mk.push(median(k));
      floorMin.push(Math.min(...f));
      mkMin.push(Math.min(...k));
    }
    await kernel.close();
    const f = median(floor);
    const k = median(mk);
    const fMin = Math.min(...floorMin);
    const kMin = Math.min(...mkMin);
    rows.push(
      `| ${n.toLocaleString("en")} | ${shape} (${levels} levels) | ${ms(f)} | ${ms(k)} | ${(k / f).toFixed(2)}x | ${ms(fMin)} | ${ms(kMin)} | ${(kMin / fMin).toFixed(2)}x | ${((k / n) * 1000).toFixed(2)} µs |`,
    );
    process.stdout.write(`${rows[rows.length - 1]}\n`);
  }
}

process.stdout.write(
  `\n| services | DAG | floor p50 | mk p50 | mk / floor (p50) | floor min | mk min | mk / floor (min) | mk per service (p50) |\n|---|---|---|---|---|---|---|---|---|\n${rows.join("\n")}\n` +
    `p50: median over rounds of each round's median; min: best single run (least disturbed by the other processes on a shared machine).\n` +
    `Goal: mk within 2x the floor.\n`,
);
