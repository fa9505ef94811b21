// One fault suite for every StateStore backend that runs on a real server process: the server is
// SIGKILLed in the middle of save loops and restarted on the same data. Counted, not timed: the
// kill comes after a number of acknowledged saves, the restart after a number of refused ones.
// Each backend package runs it with a small fixture (start the server, open a store on it).
import { StateError } from "@mk/state";
import type { ClosableStateStore } from "@mk/state/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** A running server the suite can kill and restart on the same data. */
export interface FaultServer {
  kill(signal: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** What a backend gives the fault suite. */
export interface FaultFixture<S extends FaultServer> {
  /** Names the describe block, e.g. `"PostgresStateStore under a SIGKILLed server"`. */
  title: string;
  /** What the backend calls one stored value in test names ("row", "entry"). */
  unit: string;
  start(): Promise<S>;
  /** A store on `server` in `space` (table, bucket...); `timeoutMs` when given. */
  open(server: S, space: string, options?: { timeoutMs?: number }): ClosableStateStore;
  /** A space (table, bucket...) name no other test in this process uses. */
  uniqueSpace(prefix: string): string;
}

const NAMES = ["alpha", "beta", "gamma"];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Registers the fault tests for one backend (call at the top level of a test file). */
export function describeFaults<S extends FaultServer>(fixture: FaultFixture<S>): void {
  let server: S;

  beforeAll(async () => {
    server = await fixture.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe(fixture.title, () => {
    it(`every save that resolved loads afterwards, no partial ${fixture.unit}, typed errors meanwhile`, async () => {
      const space = fixture.uniqueSpace("kill");
      const store = fixture.open(server, space, { timeoutMs: 3_000 });
      // Per name: the last value whose save resolved.
      const resolved = new Map<string, number>();
      const errors: unknown[] = [];
      let acknowledged = 0;
      let phase: "before" | "down" | "after" = "before";
      let afterAcks = 0;

      const loop = async (name: string): Promise<void> => {
        for (let i = 1; i <= 5_000 && afterAcks < 30; i++) {
          const value = { i, payload: "p".repeat(1024) };
          try {
            await store.save(name, value, { version: String(i) });
            resolved.set(name, i);
            acknowledged += 1;
            if (phase === "after") afterAcks += 1;
          } catch (error) {
            errors.push(error);
            // Refused saves are fast (connection refused): pace them so the loop stays bounded in time too.
            await sleep(20);
          }
        }
      };

      const chaos = async (): Promise<void> => {
        while (acknowledged < 40) await sleep(5);
        await server.kill("SIGKILL");
        phase = "down";
        const refusedAtKill = errors.length;
        for (let i = 0; i < 2_000 && errors.length < refusedAtKill + 6; i++) {
          await sleep(10);
        }
        await server.restart();
        phase = "after";
      };

      try {
        await Promise.all([...NAMES.map(loop), chaos()]);
        expect(phase).toBe("after");
        expect(errors.length).toBeGreaterThan(0);
        for (const error of errors) {
          expect(error).toBeInstanceOf(StateError);
          expect((error as StateError).code).toBe("STATE_IO");
        }
        // Every value opens (no partial one), and holds the last acknowledged value.
        const fresh = fixture.open(server, space);
        try {
          for (const name of NAMES) {
            const loaded = await fresh.load(name);
            expect(loaded?.state).toEqual({ i: resolved.get(name), payload: "p".repeat(1024) });
            expect(loaded?.version).toBe(String(resolved.get(name)));
          }
        } finally {
          await fresh.close();
        }
      } finally {
        await store.close();
      }
    });

    it("a save acknowledged just before the kill survives it (checked before any later save)", async () => {
      const store = fixture.open(server, fixture.uniqueSpace("ack"), { timeoutMs: 3_000 });
      try {
        for (let round = 1; round <= 3; round++) {
          await store.save("durable", { round });
          await server.kill("SIGKILL");
          await server.restart();
          expect((await store.load("durable"))?.state).toEqual({ round });
        }
      } finally {
        await store.close();
      }
    });

    it("two stores racing with compare-and-set across a kill and restart never both win one generation", async () => {
      const space = fixture.uniqueSpace("race");
      const stores = [0, 1].map(() => fixture.open(server, space, { timeoutMs: 3_000 }));
      await stores[0]?.save("contended", { by: -1, n: 0 }, { ifGeneration: 0 });
      const winners = new Map<number, number[]>();
      const codes = new Set<string>();
      let wins = 0;
      let killed = false;

      const racer = async (index: number): Promise<void> => {
        const store = stores[index];
        if (store === undefined) return;
        for (let attempt = 0; attempt < 400 && wins < 60; attempt++) {
          try {
            const loaded = await store.load("contended");
            const generation = loaded?.generation ?? 0;
            await store.save("contended", { by: index, n: attempt }, { ifGeneration: generation });
            winners.set(generation, [...(winners.get(generation) ?? []), index]);
            wins += 1;
          } catch (error) {
            codes.add((error as StateError).code);
            if ((error as StateError).code === "STATE_IO") await sleep(20);
          }
        }
      };

      const chaos = async (): Promise<void> => {
        while (wins < 20) await sleep(5);
        await server.kill("SIGKILL");
        killed = true;
        await sleep(200);
        await server.restart();
      };

      try {
        await Promise.all([racer(0), racer(1), chaos()]);
        expect(killed).toBe(true);
        expect(wins).toBeGreaterThanOrEqual(60);
        for (const [generation, who] of winners) expect(who, `generation ${generation}`).toHaveLength(1);
        expect([...codes].every((code) => code === "STATE_CONFLICT" || code === "STATE_IO")).toBe(true);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });
  });
}
