import { execFileSync, spawnSync } from "node:child_process";
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  rename,
  stat,
  symlink,
  truncate,
  writeFile,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AesGcmCrypter, LegacyAesGcmCrypter } from "@mk/crypto";
import { FileStateStore, StateError } from "@mk/state";
import { FileStateStore as FromSubpath } from "@mk/state/file";
import { describeStateStore, INVALID_NAMES } from "@mk/state/testing";
import { installBuilt, requireBuild } from "./children.ts";
import { KEY, OTHER_KEY, entries, rejection, tempDir } from "./helpers.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const crypter = new AesGcmCrypter(KEY);

async function newStore(
  options: ConstructorParameters<typeof FileStateStore>[2] = {},
): Promise<{ store: FileStateStore; dir: string }> {
  const dir = join(await tempDir(), "state");
  return { store: new FileStateStore(dir, crypter, options), dir };
}

describeStateStore("FileStateStore", async () => {
  // Every instance of one test opens the same directory.
  const dir = join(await tempDir(), "state");
  return { open: (limits) => new FileStateStore(dir, crypter, limits) };
});

describe("FileStateStore: layout and protocol", () => {
  it("is exported from the file subpath too", () => {
    expect(FromSubpath).toBe(FileStateStore);
  });

  it("writes <dir>/<name>.state, mode 0600, in a 0700 directory it creates, with no temp file left", async () => {
    const { store, dir } = await newStore();
    await store.save("echo", { secret: "plaintext-marker" });
    expect(await entries(dir)).toEqual(["echo.state"]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, "echo.state"))).mode & 0o777).toBe(0o600);
    const bytes = await readFile(join(dir, "echo.state"));
    expect(bytes.includes(Buffer.from("plaintext-marker"))).toBe(false);
    expect(bytes.includes(Buffer.from("echo"))).toBe(false);
  });

  it("creates missing parent directories", async () => {
    const dir = join(await tempDir(), "a", "b", "state");
    const store = new FileStateStore(dir, crypter);
    await store.save("echo", 1);
    expect((await store.load("echo"))?.state).toBe(1);
  });

  it("lists only state files, not temp, quarantined or foreign files", async () => {
    const { store, dir } = await newStore();
    await store.save("echo", 1);
    await writeFile(join(dir, "notes.txt"), "x");
    await writeFile(join(dir, ".echo.state.1.0123456789abcdef.tmp"), "x");
    await writeFile(join(dir, "echo.state.corrupt-20260101T000000-000Z"), "x");
    await writeFile(join(dir, "bad name.state"), "x");
    expect(await store.list()).toEqual(["echo"]);
  });

  it("refuses bad constructor arguments", () => {
    expect(() => new FileStateStore("", crypter)).toThrow(StateError);
    expect(() => new FileStateStore("a\0b", crypter)).toThrow(/non-empty path/);
    expect(() => new FileStateStore("/tmp/x", {} as AesGcmCrypter)).toThrow(/Crypter/);
    expect(() => new FileStateStore("/tmp/x", crypter, { legacy: 3 as unknown as AesGcmCrypter })).toThrow(/legacy/);
    expect(() => new FileStateStore("/tmp/x", crypter, { maxBytes: 0 })).toThrow(/positive integer/);
  });
});

describe("FileStateStore: the state directory", () => {
  // Regression: Node 20's recursive mkdir never settled under /proc (ENOENT forever).
  it("fails with STATE_IO, instead of hanging, where the directory cannot be created", async () => {
    const error = await rejection(new FileStateStore("/proc/mk-no-such-dir/state", crypter).save("echo", 1));
    expect(error.code).toBe("STATE_IO");
    expect(error.message).toMatch(/cannot create state directory/);
  });

  it("refuses a directory that is a symlink", async () => {
    const root = await tempDir();
    await mkdir(join(root, "real"), { mode: 0o700 });
    await symlink(join(root, "real"), join(root, "link"));
    const error = await rejection(new FileStateStore(join(root, "link"), crypter).save("echo", 1));
    expect(error.code).toBe("UNSAFE_DIR");
    expect(error.message).toMatch(/symbolic link/);
    expect(await readdir(join(root, "real"))).toEqual([]);
  });

  it("refuses a directory writable by group or others, and writes nothing", async () => {
    const root = await tempDir();
    for (const mode of [0o777, 0o770, 0o702]) {
      const dir = join(root, `m${mode.toString(8)}`);
      await mkdir(dir);
      await chmod(dir, mode);
      const store = new FileStateStore(dir, crypter);
      const error = await rejection(store.save("echo", 1));
      expect(error.code).toBe("UNSAFE_DIR");
      expect(error.message).toMatch(/writable by group or others/);
      expect((await rejection(store.load("echo"))).code).toBe("UNSAFE_DIR");
      expect(await entries(dir)).toEqual([]);
    }
  });

  it("accepts an existing 0755 directory (readable, not writable, by others)", async () => {
    const dir = join(await tempDir(), "state");
    await mkdir(dir);
    await chmod(dir, 0o755);
    const store = new FileStateStore(dir, crypter);
    await store.save("echo", 1);
    expect((await store.load("echo"))?.state).toBe(1);
  });

  // Regression (issue 13 item 17): as root, this test ran a child as `nobody` importing
  // dist/ from the checkout, so in a checkout under a 0700 folder (a fresh `mktemp -d`,
  // a private home) the child could not read it and `pnpm test` failed. The child now
  // imports a copy of the built package installed in a world-readable temp folder.
  it("refuses a directory owned by another user (as root: checked from a child running as nobody)", async () => {
    if (process.getuid?.() !== 0) {
      // "/" belongs to root; this process is not root.
      const error = await rejection(new FileStateStore("/", crypter).list());
      expect(error.code).toBe("UNSAFE_DIR");
      expect(error.message).toMatch(/owned by uid 0/);
      return;
    }
    requireBuild();
    const root = await tempDir();
    await installBuilt(root);
    const dir = join(root, "root-owned");
    await mkdir(dir);
    await chmod(dir, 0o755);
    const script = join(root, "check.mjs");
    await writeFile(
      script,
      `import { FileStateStore } from "@mk/state";
      const crypter = { encrypt: async (b) => b, decrypt: async (b) => b };
      try { await new FileStateStore(${JSON.stringify(dir)}, crypter).list(); console.log("ACCEPTED"); }
      catch (e) { console.log(e.code + " " + e.message); }`,
      { mode: 0o644 },
    );
    const run = spawnSync(process.execPath, [script], { uid: 65534, gid: 65534, cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^UNSAFE_DIR .*owned by uid 0, not by this process \(uid 65534\)/);
  });

  it("refuses a path that is a file", async () => {
    const root = await tempDir();
    await writeFile(join(root, "file"), "x");
    const error = await rejection(new FileStateStore(join(root, "file"), crypter).list());
    expect(error.code).toBe("UNSAFE_DIR");
  });

  it("retries the directory check after it failed", async () => {
    const root = await tempDir();
    const dir = join(root, "state");
    await mkdir(dir);
    await chmod(dir, 0o777);
    const store = new FileStateStore(dir, crypter);
    expect((await rejection(store.save("echo", 1))).code).toBe("UNSAFE_DIR");
    await chmod(dir, 0o700);
    await store.save("echo", 1);
    expect((await store.load("echo"))?.state).toBe(1);
  });

  it("removes stale temp files of dead writers on first use, and keeps those of live ones", async () => {
    const { store, dir } = await newStore();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const dead = ".echo.state.999999999.0123456789abcdef.tmp";
    const ours = `.echo.state.${process.pid}.0123456789abcdef.tmp`;
    const live = `.echo.state.${process.ppid}.0123456789abcdef.tmp`;
    for (const name of [dead, ours, live]) await writeFile(join(dir, name), "torn");
    expect(await store.list()).toEqual([]);
    expect((await entries(dir)).sort()).toEqual([live]);
  });

  it("names only paths inside the directory, whatever the name", async () => {
    const root = await tempDir();
    const dir = join(root, "state");
    const store = new FileStateStore(dir, crypter);
    for (const name of INVALID_NAMES) {
      expect((await rejection(store.save(name as string, 1))).code).toBe("INVALID_NAME");
    }
    expect(await readdir(root)).toEqual([]);
  });
});

// Hundreds of real decrypt attempts per test: slow on a busy machine (one took over
// 20 s, the default limit, on a loaded 2-core box), so a generous limit.
describe("FileStateStore: hostile files", { timeout: 120_000 }, () => {
  async function sealedFile(): Promise<{ store: FileStateStore; dir: string; path: string; bytes: Buffer }> {
    const { store, dir } = await newStore();
    await store.save("echo", { count: 7 }, { version: "1" });
    const path = join(dir, "echo.state");
    return { store, dir, path, bytes: await readFile(path) };
  }

  it("refuses every single-byte change, and never touches the file", async () => {
    const { dir, path, bytes } = await sealedFile();
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const changed = Buffer.from(bytes);
        changed[i] = (changed[i] ?? 0) ^ mask;
        await writeFile(path, changed);
        const fresh = new FileStateStore(dir, crypter);
        const error = await rejection(fresh.load("echo"));
        expect(["STATE_DECRYPT_FAILED", "STATE_UNKNOWN_FORMAT"]).toContain(error.code);
        expect(error.service).toBe("echo");
        expect(error.message).toContain('"echo"');
        expect(error.cause).toBeDefined();
        expect((await readFile(path)).equals(changed)).toBe(true);
      }
    }
  });

  it("refuses every truncation, including zero length", async () => {
    const { dir, path, bytes } = await sealedFile();
    for (let length = 0; length < bytes.length; length++) {
      await writeFile(path, bytes.subarray(0, length));
      const error = await rejection(new FileStateStore(dir, crypter).load("echo"));
      expect(["STATE_DECRYPT_FAILED", "STATE_UNKNOWN_FORMAT"]).toContain(error.code);
      expect((await stat(path)).size).toBe(length);
    }
  });

  it("refuses trailing garbage", async () => {
    const { store, path, bytes } = await sealedFile();
    for (const extra of [Buffer.from([0]), Buffer.from("garbage"), Buffer.alloc(4096, 7)]) {
      await writeFile(path, Buffer.concat([bytes, extra]));
      expect((await rejection(store.load("echo"))).code).toBe("STATE_DECRYPT_FAILED");
    }
  });

  it("refuses an all-zero file (delayed allocation after a crash) as not an mk file", async () => {
    const { store, path, bytes } = await sealedFile();
    await writeFile(path, Buffer.alloc(bytes.length));
    const error = await rejection(store.load("echo"));
    expect(error.code).toBe("STATE_UNKNOWN_FORMAT");
    expect(error.message).toMatch(/options\.legacy/);
  });

  it("refuses a file sealed with another key, and leaves it untouched", async () => {
    const { dir, path, bytes } = await sealedFile();
    const wrong = new FileStateStore(dir, new AesGcmCrypter(OTHER_KEY));
    const error = await rejection(wrong.load("echo"));
    expect(error.code).toBe("STATE_DECRYPT_FAILED");
    expect(error.message).toMatch(/wrong key/);
    expect((await readFile(path)).equals(bytes)).toBe(true);
  });

  it("refuses a file copied from another service (the name is bound as associated data)", async () => {
    const { store, dir, path } = await sealedFile();
    await copyFile(path, join(dir, "alpha.state"));
    const error = await rejection(store.load("alpha"));
    expect(error.code).toBe("STATE_DECRYPT_FAILED");
    expect(error.service).toBe("alpha");
  });

  it("refuses a sealed document that names another service or is not a document", async () => {
    const { store, dir } = await newStore();
    const aad = new TextEncoder().encode("echo");
    const cases: [string, string][] = [
      ['{"mk":1,"name":"other","generation":1,"state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":-1,"state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1,"version":3,"state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1,"epoch":-1,"state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1,"epoch":"2","state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1,"epoch":1.5,"state":1}', "STATE_CORRUPT"],
      ['{"mk":2,"name":"echo","generation":1,"state":1}', "STATE_UNSUPPORTED_VERSION"],
      ['{"name":"echo","generation":1,"state":1}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1,"state":{"__proto__":{"x":1}}}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1,"state":{"a":{"\\u005f_proto__":1}}}', "STATE_CORRUPT"],
      ['{"mk":1,"name":"echo","generation":1,"state":' + "[".repeat(300) + "]".repeat(300) + "}", "STATE_CORRUPT"],
      ["[1]", "STATE_CORRUPT"],
      ["3", "STATE_CORRUPT"],
      ["not json", "STATE_CORRUPT"],
    ];
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [text, code] of cases) {
      await writeFile(join(dir, "echo.state"), await crypter.encrypt(new TextEncoder().encode(text), aad));
      const error = await rejection(store.load("echo"));
      expect(error.code, text.slice(0, 60)).toBe(code);
    }
    // Invalid UTF-8 inside a valid envelope.
    await writeFile(join(dir, "echo.state"), await crypter.encrypt(new Uint8Array([0x22, 0xff, 0x22]), aad));
    expect((await rejection(store.load("echo"))).code).toBe("STATE_CORRUPT");
  });

  it("refuses a symlink at the state path, and a save replaces the link, not its target", async () => {
    const { store, dir } = await newStore();
    await store.save("victim", { mine: true });
    const victimBytes = await readFile(join(dir, "victim.state"));
    await symlink(join(dir, "victim.state"), join(dir, "echo.state"));
    const error = await rejection(store.load("echo"));
    expect(error.code).toBe("NOT_A_FILE");
    expect(error.message).toMatch(/symbolic link/);
    expect(await store.exists("echo")).toBe(true);
    await store.save("echo", { replaced: true });
    expect((await lstat(join(dir, "echo.state"))).isFile()).toBe(true);
    expect((await readFile(join(dir, "victim.state"))).equals(victimBytes)).toBe(true);
    expect((await store.load("echo"))?.state).toEqual({ replaced: true });
  });

  it("refuses a dangling symlink and one to /dev/zero", async () => {
    const { store, dir } = await newStore();
    await store.list();
    await symlink("/nonexistent/target", join(dir, "a.state"));
    await symlink("/dev/zero", join(dir, "b.state"));
    expect((await rejection(store.load("a"))).code).toBe("NOT_A_FILE");
    expect((await rejection(store.load("b"))).code).toBe("NOT_A_FILE");
    expect(await readlink(join(dir, "a.state"))).toBe("/nonexistent/target");
  });

  it("refuses a FIFO without blocking, and a directory", async () => {
    const { store, dir } = await newStore();
    await store.list();
    execFileSync("mkfifo", [join(dir, "fifo.state")]);
    await mkdir(join(dir, "dir.state"));
    const fifo = await rejection(store.load("fifo"));
    expect(fifo.code).toBe("NOT_A_FILE");
    expect(fifo.message).toMatch(/FIFO/);
    const asDir = await rejection(store.load("dir"));
    expect(asDir.code).toBe("NOT_A_FILE");
    expect(asDir.message).toMatch(/directory/);
  });

  it("refuses an oversized file before reading it (a 1 GiB sparse file)", async () => {
    const { store, dir } = await newStore();
    await store.list();
    await writeFile(join(dir, "huge.state"), "");
    await truncate(join(dir, "huge.state"), 1024 ** 3);
    const error = await rejection(store.load("huge"));
    expect(error.code).toBe("STATE_TOO_LARGE");
    expect(error.message).toMatch(/maxBytes/);
  });

  it("honours a custom maxBytes on load", async () => {
    const dir = join(await tempDir(), "state");
    await new FileStateStore(dir, crypter).save("echo", "x".repeat(2000));
    const error = await rejection(new FileStateStore(dir, crypter, { maxBytes: 1000 }).load("echo"));
    expect(error.code).toBe("STATE_TOO_LARGE");
  });
});

describe("FileStateStore: quarantine", () => {
  it("moves a file aside on request, never deleting it", async () => {
    const { store, dir } = await newStore();
    await store.save("echo", 1);
    const bytes = await readFile(join(dir, "echo.state"));
    const to = await store.quarantine("echo");
    expect(to).toMatch(/echo\.state\.corrupt-\d{8}T\d{6}-\d{3}Z$/);
    expect((await readFile(to ?? "")).equals(bytes)).toBe(true);
    expect(await store.load("echo")).toBeUndefined();
    expect(await store.quarantine("echo")).toBeUndefined();
    // A second quarantine in the same millisecond never overwrites the first.
    await store.save("echo", 2);
    const again = await store.quarantine("echo");
    expect(again).not.toBe(to);
    expect((await entries(dir)).filter((f) => f.includes("corrupt")).length).toBe(2);
  });

  it("with the quarantine option, moves an undecryptable file aside and still rejects", async () => {
    const dir = join(await tempDir(), "state");
    await new FileStateStore(dir, crypter).save("echo", 1);
    const bytes = await readFile(join(dir, "echo.state"));
    const store = new FileStateStore(dir, new AesGcmCrypter(OTHER_KEY), { quarantine: true });
    const error = await rejection(store.load("echo"));
    expect(error.code).toBe("STATE_DECRYPT_FAILED");
    expect(error.quarantinedTo).toMatch(/echo\.state\.corrupt-/);
    expect(error.message).toMatch(/moved aside/);
    expect((await readFile(error.quarantinedTo ?? "")).equals(bytes)).toBe(true);
    expect(await store.load("echo")).toBeUndefined();
  });

  it("without the option, a failed load never moves, rewrites or deletes the file", async () => {
    const dir = join(await tempDir(), "state");
    await new FileStateStore(dir, crypter).save("echo", 1);
    const before = await entries(dir);
    const error = await rejection(new FileStateStore(dir, new AesGcmCrypter(OTHER_KEY)).load("echo"));
    expect(error.quarantinedTo).toBeUndefined();
    expect(await entries(dir)).toEqual(before);
  });
});

describe("FileStateStore: legacy reference files", () => {
  const legacyKey = "1234567890123456";

  async function withFixture(): Promise<string> {
    const dir = join(await tempDir(), "state");
    await mkdir(dir, { mode: 0o700 });
    await copyFile(join(fixtures, "echo.state"), join(dir, "echo.state"));
    return dir;
  }

  it("without the legacy option, says to pass it", async () => {
    const dir = await withFixture();
    const error = await rejection(new FileStateStore(dir, new AesGcmCrypter(legacyKey)).load("echo"));
    expect(error.code).toBe("STATE_UNKNOWN_FORMAT");
    expect(error.message).toMatch(/pass options\.legacy/);
  });

  it("with it, reads the Go file and rewrites it in the mk format at the next save", async () => {
    const dir = await withFixture();
    const store = new FileStateStore(dir, new AesGcmCrypter(legacyKey), { legacy: new LegacyAesGcmCrypter(legacyKey) });
    const loaded = await store.load("echo");
    expect(loaded).toEqual({ state: 3, generation: 0, epoch: 0, legacy: true });
    await store.save("echo", 4, { version: "2.0.0" });
    const plain = new FileStateStore(dir, new AesGcmCrypter(legacyKey));
    const reloaded = await plain.load("echo");
    expect(reloaded?.state).toBe(4);
    expect(reloaded?.legacy).toBeUndefined();
    expect(reloaded?.version).toBe("2.0.0");
  });

  it("with a wrong legacy key, is a decrypt failure that leaves the file alone", async () => {
    const dir = await withFixture();
    const store = new FileStateStore(dir, new AesGcmCrypter(legacyKey), {
      legacy: new LegacyAesGcmCrypter("6543210987654321"),
    });
    const error = await rejection(store.load("echo"));
    expect(error.code).toBe("STATE_DECRYPT_FAILED");
    expect(error.message).toMatch(/legacy/);
    expect((await readFile(join(dir, "echo.state"))).equals(await readFile(join(fixtures, "echo.state")))).toBe(true);
  });
});

describe("FileStateStore: rollback and key rotation", () => {
  it("flags an older file put back after a newer one was seen", async () => {
    const { store, dir } = await newStore();
    await store.save("echo", 1);
    const old = await readFile(join(dir, "echo.state"));
    await store.save("echo", 2);
    await writeFile(join(dir, "echo.state"), old);
    const error = await rejection(store.load("echo"));
    expect(error.code).toBe("ROLLBACK");
    expect(error.message).toMatch(/generation \d+ < \d+/);
    // The documented limit: a fresh store (a restart) has seen nothing and accepts it.
    expect((await new FileStateStore(dir, crypter).load("echo"))?.state).toBe(1);
  });

  it("reports needsRewrap for a file sealed with an old key, and reseals with the primary on save", async () => {
    const dir = join(await tempDir(), "state");
    await new FileStateStore(dir, new AesGcmCrypter(KEY, { keyId: 1 })).save("echo", 1);
    const rotated = new AesGcmCrypter(OTHER_KEY, { keyId: 2, previousKeys: [{ id: 1, key: KEY }] });
    const store = new FileStateStore(dir, rotated);
    const loaded = await store.load("echo");
    expect(loaded?.state).toBe(1);
    expect(loaded?.needsRewrap).toBe(true);
    await store.save("echo", 2);
    const after = await store.load("echo");
    expect(after?.needsRewrap).toBeUndefined();
    expect(rotated.keyIdOf(await readFile(join(dir, "echo.state")))).toBe(2);
  });
});

describe("FileStateStore: failed writes", () => {
  it("a rename that fails leaves the old state, no temp file, and a typed error", async () => {
    const { store, dir } = await newStore();
    await store.save("other", 1);
    // A non-empty directory at the target makes rename(2) fail.
    await mkdir(join(dir, "echo.state"));
    await writeFile(join(dir, "echo.state", "x"), "x");
    const error = await rejection(store.save("echo", 1));
    expect(error.code).toBe("STATE_IO");
    expect(error.message).toMatch(/rename/);
    expect(error.cause).toBeDefined();
    expect((await entries(dir)).sort()).toEqual(["echo.state", "other.state"]);
  });

  it("works with a crypter that seals and opens in place (no buffer is wiped under it)", async () => {
    const dir = join(await tempDir(), "state");
    const xorInPlace = async (b: Uint8Array): Promise<Uint8Array> => {
      for (let i = 0; i < b.length; i++) b[i] = (b[i] ?? 0) ^ 0x5a;
      return b;
    };
    const inPlace = { encrypt: xorInPlace, decrypt: xorInPlace };
    const store = new FileStateStore(dir, inPlace);
    await store.save("echo", { n: 1 });
    expect((await new FileStateStore(dir, inPlace).load("echo"))?.state).toEqual({ n: 1 });
  });

  it("a crypter that fails to seal gives STATE_ENCRYPT_FAILED and leaves the old file", async () => {
    const dir = join(await tempDir(), "state");
    await new FileStateStore(dir, crypter).save("echo", 1);
    const failing = { encrypt: () => Promise.reject(new Error("no key")), decrypt: crypter.decrypt.bind(crypter) };
    const error = await rejection(new FileStateStore(dir, failing).save("echo", 2));
    expect(error.code).toBe("STATE_ENCRYPT_FAILED");
    expect(error.message).toMatch(/no key/);
    expect(await entries(dir)).toEqual(["echo.state"]);
    expect((await new FileStateStore(dir, crypter).load("echo"))?.state).toBe(1);
  });

  it("many concurrent saves over several names leave exactly the last state of each and no temp file", async () => {
    const { store, dir } = await newStore();
    const names = ["a", "b", "c"];
    await Promise.all(
      Array.from({ length: 90 }, (_, i) => store.save(names[i % 3] ?? "a", { i, pad: "p".repeat(i * 50) })),
    );
    for (const [k, name] of names.entries())
      expect(((await store.load(name))?.state as { i: number } | undefined)?.i).toBe(87 + k);
    expect((await entries(dir)).sort()).toEqual(["a.state", "b.state", "c.state"]);
  });

  it("two stores on one directory never race into EEXIST/ENOENT", async () => {
    const dir = join(await tempDir(), "state");
    const one = new FileStateStore(dir, crypter);
    const two = new FileStateStore(dir, crypter);
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).save("echo", { i })));
    expect([28, 29]).toContain(
      ((await new FileStateStore(dir, crypter).load("echo"))?.state as { i: number } | undefined)?.i,
    );
  });
});

describe("FileStateStore: compare-and-set and fencing on disk", () => {
  it("keeps the epoch inside the sealed document, not in the clear", async () => {
    const { store, dir } = await newStore();
    await store.save("echo", 1, { epoch: 123456789 });
    const bytes = await readFile(join(dir, "echo.state"));
    expect(bytes.includes(Buffer.from("123456789"))).toBe(false);
    expect(bytes.includes(Buffer.from("epoch"))).toBe(false);
    expect(await new FileStateStore(dir, crypter).load("echo")).toMatchObject({ state: 1, epoch: 123456789 });
  });

  it("a save that fails before the rename changes neither the state nor the epoch", async () => {
    const dir = join(await tempDir(), "state");
    const good = new FileStateStore(dir, crypter);
    await good.save("echo", "three", { epoch: 3 });
    const failing = { encrypt: () => Promise.reject(new Error("no key")), decrypt: crypter.decrypt.bind(crypter) };
    const broken = new FileStateStore(dir, failing);
    expect((await rejection(broken.save("echo", "five", { epoch: 5 }))).code).toBe("STATE_ENCRYPT_FAILED");
    expect(await good.load("echo")).toMatchObject({ state: "three", epoch: 3 });
    await good.save("echo", "four", { epoch: 4 });
    expect(await good.load("echo")).toMatchObject({ state: "four", epoch: 4 });
  });

  it("a file it cannot open fails a conditional save with the load error; a plain save still replaces it", async () => {
    const elsewhere = join(await tempDir(), "elsewhere");
    await new FileStateStore(elsewhere, new AesGcmCrypter(OTHER_KEY)).save("echo", "foreign");
    const dir = join(await tempDir(), "state");
    await mkdir(dir, { mode: 0o700 });
    // Copied in: this process never read or wrote this file, so a save must read it.
    await copyFile(join(elsewhere, "echo.state"), join(dir, "echo.state"));
    const store = new FileStateStore(dir, crypter);
    expect((await rejection(store.save("echo", 1, { epoch: 1 }))).code).toBe("STATE_DECRYPT_FAILED");
    expect((await rejection(store.save("echo", 1, { ifGeneration: 0 }))).code).toBe("STATE_DECRYPT_FAILED");
    await store.save("echo", 2);
    expect(await store.load("echo")).toMatchObject({ state: 2, epoch: 0 });
  });

  it("stores reaching one directory through two paths share compare-and-set", async () => {
    const root = await tempDir();
    const dir = join(root, "state");
    await symlink(root, join(root, "alias"));
    const a = new FileStateStore(dir, crypter);
    const b = new FileStateStore(join(root, "alias", "state"), crypter);
    await a.save("race", 0);
    for (let round = 0; round < 10; round++) {
      const generation = (await a.load("race"))?.generation ?? -1;
      const results = await Promise.allSettled([
        a.save("race", round, { ifGeneration: generation }),
        b.save("race", round, { ifGeneration: generation }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it("a store opened after another closed reads the file afresh", async () => {
    const dir = join(await tempDir(), "state");
    const first = new FileStateStore(dir, crypter);
    await first.save("echo", 1, { epoch: 2 });
    await first.close();
    // Changed behind the closed store's back: the next one must not trust anything remembered.
    await new FileStateStore(dir, crypter).save("echo", 2, { epoch: 9 });
    const second = new FileStateStore(dir, crypter);
    expect((await rejection(second.save("echo", 3, { epoch: 5 }))).code).toBe("STATE_FENCED");
  });

  it("trusts what it remembers of a file only while that file is in place (a restored copy is read afresh)", async () => {
    const { store, dir } = await newStore();
    await store.save("echo", "old", { epoch: 1 });
    const old = await readFile(join(dir, "echo.state"));
    await store.save("echo", "new", { epoch: 9 });
    // An operator restores the older file while the store runs.
    await writeFile(join(dir, "echo.state.restore"), old);
    await rename(join(dir, "echo.state.restore"), join(dir, "echo.state"));
    await store.save("echo", "after restore", { epoch: 5 });
    expect((await new FileStateStore(dir, crypter).load("echo"))?.epoch).toBe(5);
  });
});
