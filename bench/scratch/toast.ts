import { randomBytes } from "node:crypto";
import { startPostgres } from "@mk/test-servers";
import pg from "pg";
const server = await startPostgres();
const pool = new pg.Pool({ connectionString: server.connectionString, max: 2 });
pool.on("error", () => {});
const variants: Record<string, string> = {
  plain: "",
  target8160: "ALTER TABLE @ SET (toast_tuple_target = 8160)",
  inline8160: "ALTER TABLE @ SET (toast_tuple_target = 8160); ALTER TABLE @ ALTER COLUMN data SET STORAGE MAIN",
};
for (const [v, extra] of Object.entries(variants)) {
  await pool.query(`CREATE TABLE ${v} (name text PRIMARY KEY, data bytea NOT NULL)`);
  if (extra) for (const q of extra.replaceAll("@", v).split(";")) await pool.query(q);
  await pool.query(`INSERT INTO ${v} VALUES ('svc', $1)`, [randomBytes(4300)]);
}
const times: Record<string, number[]> = {};
for (let i = 0; i < 1500; i++) for (const v of Object.keys(variants)) {
  const payload = randomBytes(4300);
  let t = performance.now();
  await pool.query({ name: v + "u", text: `INSERT INTO ${v} (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data`, values: ["svc", payload] });
  const t1 = performance.now();
  await pool.query({ name: v + "s", text: `SELECT data FROM ${v} WHERE name = $1`, values: ["svc"] });
  const t2 = performance.now();
  if (i > 100) { (times[v + ".save"] ??= []).push(t1 - t); (times[v + ".load"] ??= []).push(t2 - t1); }
}
const p50 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
for (const [k, v] of Object.entries(times)) console.log(k.padEnd(22), (p50(v) * 1000).toFixed(1), "µs");
for (const v of Object.keys(variants)) console.log(v, (await pool.query(`select pg_relation_size('${v}') h, coalesce(pg_relation_size(reltoastrelid),0) t from pg_class where relname='${v}'`)).rows[0]);
await pool.end(); await server.stop();
