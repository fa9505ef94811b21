import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { AesGcmCrypter, type Crypter } from "@mk/crypto";
import { PostgresStateStore } from "@mk/store-postgres";
import { startPostgres } from "@mk/test-servers";
import pg from "pg";
const items = Array.from({ length: 60 }, (_, id) => ({ id, name: `user-${id}-${"x".repeat(id % 17)}`, tags: ["a", "bb", "ccc"], score: id * 1.5, active: id % 2 === 0 }));
const state = { items };
const inner = new AesGcmCrypter(randomBytes(32));
const E: number[] = [];
const crypter: Crypter = { encrypt: async (p, ad) => { const t = performance.now(); const r = await inner.encrypt(p, ad); E.push(performance.now() - t); return r; }, decrypt: (c, ad) => inner.decrypt(c, ad) };
const server = await startPostgres();
const pool = new pg.Pool({ connectionString: server.connectionString, max: 2 });
const Q: number[] = [];
const C: number[] = [];
const seen = new WeakSet();
const origConnect = pool.connect.bind(pool);
(pool as any).connect = async () => { const t0 = performance.now(); const c = await origConnect(); C.push(performance.now() - t0); if (!seen.has(c)) { seen.add(c); const q = c.query.bind(c); (c as any).query = async (...a: any[]) => { const t = performance.now(); const r = await (q as any)(...a); Q.push(performance.now() - t); return r; }; } return c; };
const store = new PostgresStateStore({ pool, crypter, table: "b" });
await store.save("svc", state);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(3);
const A: number[] = [];
const R: number[] = [];
await pool.query("CREATE TABLE raw_state (name text PRIMARY KEY, data bytea NOT NULL)");
const bytes = randomBytes(4300);
for (let r = 0; r < 5; r++) {
for (let i = 0; i < 100; i++) { const t = performance.now(); await store.save("svc", state, { epoch: 1 }); A.push(performance.now() - t); }
for (let i = 0; i < 100; i++) { const t = performance.now(); await pool.query({ name: "r", text: "INSERT INTO raw_state (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data", values: ["svc", bytes] }); R.push(performance.now() - t); }
}
console.log("store.save", med(A), "encrypt inside", med(E), "connect", med(C), "query inside", med(Q), "raw", med(R));
await store.close(); await pool.end(); await server.stop();
