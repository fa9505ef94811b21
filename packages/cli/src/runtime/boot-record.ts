import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { CliError, describeError } from "../errors.ts";

/** What the boot record keeps of one hot swap. */
export interface BootEntry {
  /** Absolute path of the module swapped in. */
  module: string;
  /** Its export, when not "default". */
  export?: string;
  /** The version it reported. */
  version?: string;
  /** The module the config named when the swap happened: a config edited since then wins. */
  configModule: string;
  /** ISO time of the swap. */
  swappedAt: string;
  /** What swapped it: `mk swap` or `mk dev`. */
  by: string;
}

interface BootFile {
  mk: 1;
  config: string;
  services: Record<string, BootEntry>;
}

/**
 * The boot record of one config: which module each hot-swapped service runs now, so the next
 * `mk run` boots what was running rather than what the config first named. Kept beside the
 * config in `.mk/<config file>.boot.json` (paths and versions only: nothing secret), replaced
 * atomically.
 */
export class BootRecord {
  readonly path: string;
  readonly #configFile: string;
  #services: Record<string, BootEntry> = {};

  constructor(configFile: string, dir: string) {
    this.#configFile = configFile;
    this.path = join(dir, ".mk", `${basename(configFile)}.boot.json`);
  }

  /**
   * Reads the record; a missing file is an empty record.
   * @throws {CliError} `INVALID_ARGUMENT` for a file that is not a boot record (named, never ignored).
   */
  async read(): Promise<this> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") return this;
      throw new CliError("INVALID_ARGUMENT", `boot record ${this.path}: ${describeError(cause)}`, { cause });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new CliError("INVALID_ARGUMENT", `boot record ${this.path} is not valid JSON: ${describeError(cause)}`, {
        cause,
        hint: "delete it to boot what the config names",
      });
    }
    const file = parsed as Partial<BootFile>;
    if (file.mk !== 1 || typeof file.services !== "object" || file.services === null) {
      throw new CliError("INVALID_ARGUMENT", `boot record ${this.path}: expected {"mk":1,"services":{...}}`, {
        hint: "delete it to boot what the config names",
      });
    }
    this.#services = file.services;
    return this;
  }

  get(name: string): BootEntry | undefined {
    return Object.hasOwn(this.#services, name) ? this.#services[name] : undefined;
  }

  entries(): [string, BootEntry][] {
    return Object.entries(this.#services);
  }

  /** Records a swap and writes the file. */
  async set(name: string, entry: BootEntry): Promise<void> {
    this.#services = { ...this.#services, [name]: entry };
    await this.#write();
  }

  /** Forgets a service (the config wins again) and writes the file, when it had an entry. */
  async forget(name: string): Promise<void> {
    if (this.get(name) === undefined) return;
    const { [name]: _dropped, ...rest } = this.#services;
    this.#services = rest;
    await this.#write();
  }

  async #write(): Promise<void> {
    const dir = join(this.path, "..");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = `${this.path}.tmp-${process.pid}`;
    const body: BootFile = { mk: 1, config: this.#configFile, services: this.#services };
    await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, this.path);
  }
}
