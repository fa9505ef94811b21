import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "node:net";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { natsServerBinary, postgresBinaries, startNats, startPostgres, TestServerError } from "../src/index.ts";

/** The INFO line nats-server sends first to every client. */
function natsInfo(port: number): Promise<{ jetstream?: boolean; port: number; max_payload: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      const end = text.indexOf("\r\n");
      if (end < 0) return;
      socket.destroy();
      resolve(
        JSON.parse(text.slice("INFO ".length, end)) as { jetstream?: boolean; port: number; max_payload: number },
      );
    });
    socket.on("error", reject);
  });
}

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as dead). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

/** Polls (at most 5 s) until `pid` is dead; returns whether it is. */
async function diesSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !isAlive(pid);
}

/** Runs test/fixtures/orphan.ts (a process that starts a nats-server), returns it and what it printed. */
function startOrphanParent(): Promise<{ child: ReturnType<typeof spawn>; pid: number; dir: string }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "fixtures", "orphan.ts")], {
    cwd: join(here, ".."),
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("\n")) resolve({ child, ...(JSON.parse(text) as { pid: number; dir: string }) });
    });
    child.once("exit", (code) => reject(new Error(`the fixture exited with ${String(code)} before printing`)));
  });
}

async function selectOne(connectionString: string): Promise<number> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const result = await client.query<{ one: number }>("select 1 as one");
    return result.rows[0]?.one ?? 0;
  } finally {
    await client.end();
  }
}

describe("startNats", () => {
  it("starts JetStream on a loopback port, survives SIGKILL + restart on the same port, and stop removes its folder", async () => {
    const nats = await startNats({ jetstream: true });
    try {
      expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
      expect(await natsInfo(nats.port)).toMatchObject({ jetstream: true, port: nats.port });
      const firstPid = nats.pid;
      await nats.kill();
      expect(nats.running).toBe(false);
      expect(nats.pid).toBeUndefined();
      expect(await diesSoon(firstPid ?? 0)).toBe(true);
      await nats.restart();
      expect(nats.running).toBe(true);
      expect(await natsInfo(nats.port)).toMatchObject({ jetstream: true, port: nats.port });
    } finally {
      await nats.stop();
    }
    expect(existsSync(nats.dir)).toBe(false);
    await nats.stop(); // idempotent
    await expect(nats.restart()).rejects.toMatchObject({ code: "SERVER_STOPPED" });
  });

  it("pause(): SIGSTOP makes it hang (no INFO line), SIGCONT resumes it", async () => {
    const nats = await startNats();
    try {
      expect(await nats.pause()).toBe(true);
      const info = natsInfo(nats.port);
      const early = await Promise.race([info.then(() => "answered"), new Promise((r) => setTimeout(r, 300, "silent"))]);
      expect(early).toBe("silent");
      nats.signal("SIGCONT");
      expect((await info).port).toBe(nats.port);
    } finally {
      await nats.stop();
    }
  });

  it("without jetstream, runs plain NATS; maxPayload sets the server's max_payload", async () => {
    const nats = await startNats({ maxPayload: 8 * 1024 * 1024 });
    try {
      const info = await natsInfo(nats.port);
      expect(info.jetstream).toBeUndefined();
      expect(info.max_payload).toBe(8 * 1024 * 1024);
    } finally {
      await nats.stop();
    }
  });

  it("fails with SERVER_START_FAILED when MK_NATS_SERVER points at nothing", async () => {
    const saved = process.env["MK_NATS_SERVER"];
    process.env["MK_NATS_SERVER"] = "/nonexistent/nats-server";
    try {
      const error = await startNats().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TestServerError);
      expect(error).toMatchObject({ code: "SERVER_START_FAILED" });
    } finally {
      if (saved === undefined) delete process.env["MK_NATS_SERVER"];
      else process.env["MK_NATS_SERVER"] = saved;
    }
  });

  it("refuses bad options with INVALID_ARGUMENT", async () => {
    await expect(startNats({ jetstream: "yes" as unknown as boolean })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(startNats({ startTimeoutMs: -1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(startNats({ maxPayload: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(startNats(null as unknown as object)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("startPostgres", () => {
  it("starts on a loopback port as a non-root user, survives SIGKILL + restart with its data, and stop removes its folder", async () => {
    const server = await startPostgres();
    try {
      expect(server.connectionString).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
      const client = new pg.Client(server.connectionString);
      await client.connect();
      await client.query("create table kept (v int)");
      await client.query("insert into kept values (42)");
      const backend = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid;
      client.on("error", () => {}); // the kill below ends this connection
      await server.kill();
      expect(server.running).toBe(false);
      // The whole process group died, backends included.
      expect(await diesSoon(backend ?? 0)).toBe(true);
      await server.restart();
      const again = new pg.Client(server.connectionString);
      await again.connect();
      expect((await again.query<{ v: number }>("select v from kept")).rows).toEqual([{ v: 42 }]);
      await again.end();
      await server.restart(); // a fast shutdown of a running server, then a start
      expect(await selectOne(server.connectionString)).toBe(1);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dir)).toBe(false);
  });
});

describe("no server outlives the test process", () => {
  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`a test process ended by ${signal} leaves no server and no folder behind`, async () => {
      const { child, pid, dir } = await startOrphanParent();
      expect(isAlive(pid)).toBe(true);
      child.kill(signal);
      // SIGTERM: the signal hook kills at once; SIGKILL: the watchdog notices within a second or so.
      expect(await diesSoon(pid)).toBe(true);
      for (let i = 0; i < 100 && existsSync(dir); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(existsSync(dir)).toBe(false);
    });
  }
});

describe("a missing server", () => {
  /** Runs `fn` with no PATH and none of the env overrides. */
  function withoutSearchPath<T>(fn: () => T): T {
    const saved = {
      PATH: process.env["PATH"],
      MK_PG_BIN: process.env["MK_PG_BIN"],
      MK_NATS_SERVER: process.env["MK_NATS_SERVER"],
    };
    process.env["PATH"] = "";
    delete process.env["MK_PG_BIN"];
    delete process.env["MK_NATS_SERVER"];
    try {
      return fn();
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  }

  it("is one line saying what to install, never a silent skip (nats-server)", () => {
    const error = withoutSearchPath(() => {
      try {
        natsServerBinary(["/nonexistent"]);
        return undefined;
      } catch (caught) {
        return caught;
      }
    });
    expect(error).toBeInstanceOf(TestServerError);
    expect(error).toMatchObject({ code: "SERVER_NOT_INSTALLED", server: "nats-server" });
    expect((error as Error).message).toContain("apt-get install -y nats-server");
    expect((error as Error).message).not.toContain("\n");
  });

  it("is one line saying what to install, never a silent skip (PostgreSQL)", () => {
    const error = withoutSearchPath(() => {
      try {
        postgresBinaries(["/nonexistent"]);
        return undefined;
      } catch (caught) {
        return caught;
      }
    });
    expect(error).toBeInstanceOf(TestServerError);
    expect(error).toMatchObject({ code: "SERVER_NOT_INSTALLED", server: "postgres" });
    expect((error as Error).message).toContain("apt-get install -y postgresql");
    expect((error as Error).message).not.toContain("\n");
  });

  it("finds the installed binaries in their usual places", () => {
    expect(natsServerBinary()).toMatch(/nats-server$/);
    expect(postgresBinaries()).toMatchObject({
      initdb: expect.stringMatching(/initdb$/),
      postgres: expect.stringMatching(/postgres$/),
    });
  });
});
