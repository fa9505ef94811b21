import { createHash } from "node:crypto";
import { lstat, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlError } from "../errors.ts";

/**
 * The private folder of control sockets: `$MK_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/mk`, else
 * `<tmpdir>/mk-<uid>`. Only its owner may enter it (0700).
 */
export function runtimeDir(env: NodeJS.ProcessEnv): string {
  const explicit = env["MK_RUNTIME_DIR"];
  if (explicit !== undefined && explicit !== "") return explicit;
  const xdg = env["XDG_RUNTIME_DIR"];
  if (xdg !== undefined && xdg !== "") return join(xdg, "mk");
  return join(tmpdir(), `mk-${process.getuid?.() ?? "user"}`);
}

/** The socket of the kernel running `configFile` (one per config: a hash of its absolute path). */
export function socketPathFor(configFile: string, env: NodeJS.ProcessEnv): string {
  const id = createHash("sha256").update(configFile).digest("hex").slice(0, 16);
  return join(runtimeDir(env), `${id}.sock`);
}

/** Why a path is not private to this user, or `undefined` when it is. */
export function unsafeReason(info: { uid: number; mode: number }, what: string, path: string): string | undefined {
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid)
    return `${what} ${path} is owned by uid ${info.uid}, not by you (uid ${uid})`;
  if ((info.mode & 0o077) !== 0) {
    return `${what} ${path} has mode 0${(info.mode & 0o777).toString(8)}: expected no access for group and others`;
  }
  return undefined;
}

/**
 * Checks that `dir` is a real folder (not a link), owned by this user, mode 0700 or stricter;
 * creates it 0700 when `create` and it is missing.
 * @throws {ControlError} `CONTROL_UNSAFE`, or `CONTROL_UNREACHABLE` when missing and not created.
 */
export async function checkPrivateDir(dir: string, create: boolean): Promise<void> {
  if (create) await mkdir(dir, { recursive: true, mode: 0o700 });
  let info;
  try {
    info = await lstat(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ControlError("CONTROL_UNREACHABLE", `no kernel is running: the control folder ${dir} does not exist`, {
        cause,
        hint: "start one with `mk run`",
      });
    }
    throw new ControlError("CONTROL_UNSAFE", `cannot check the control folder ${dir}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (info.isSymbolicLink() || !info.isDirectory()) {
    throw new ControlError("CONTROL_UNSAFE", `control folder ${dir} is not a folder (a link or a file): refusing it`);
  }
  const reason = unsafeReason(info, "control folder", dir);
  if (reason !== undefined) {
    throw new ControlError("CONTROL_UNSAFE", `${reason}: refusing it`, { hint: `chmod 700 ${dir} (and own it)` });
  }
}

/**
 * Checks that `path` is a socket owned by this user with mode 0600 or stricter.
 * @throws {ControlError} `CONTROL_UNREACHABLE` when there is none, `CONTROL_UNSAFE` otherwise.
 */
export async function checkPrivateSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ControlError(
        "CONTROL_UNREACHABLE",
        `no kernel is running for this config: no control socket at ${path}`,
        {
          cause,
          hint: "start one with `mk run`, or give --socket PATH",
        },
      );
    }
    throw new ControlError("CONTROL_UNSAFE", `cannot check the control socket ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!info.isSocket()) throw new ControlError("CONTROL_UNSAFE", `${path} is not a socket: refusing it`);
  const reason = unsafeReason(info, "control socket", path);
  if (reason !== undefined) throw new ControlError("CONTROL_UNSAFE", `${reason}: refusing it`);
}
