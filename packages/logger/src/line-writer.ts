import { closeSync, fstatSync, fsyncSync, ftruncateSync, writeSync } from "node:fs";
import { SinkWriteError } from "./errors.ts";

/** Where a text or JSON sink writes: anything with `write(string)`, or a file descriptor. */
export interface LineStream {
  write(chunk: string): unknown;
}

/** Collects lines and writes them out; the sinks' shared back end. */
export interface LineWriter {
  write(line: string): void;
  flush(): void;
  close(): void;
  readonly errors: number;
  readonly dropped: number;
}

export interface WriterOptions {
  /** Called with every write error (never thrown into a log call). */
  onError?: ((error: Error) => void) | undefined;
}

/** Flush size: the research measured 4 KiB batches at ~115 ns/line against ~393 ns for a syscall per line. */
export const DEFAULT_BUFFER_SIZE: number = 16 * 1024;

// Every buffered fd writer alive; flushed with writeSync on `exit` so that
// `process.exit()` right after a log call loses nothing.
const live = new Set<LineWriter>();
let exitHookInstalled = false;

function flushAllSync(): void {
  for (const writer of live) writer.flush();
}

function track(writer: LineWriter): void {
  live.add(writer);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", flushAllSync);
}

const EAGAIN_RETRIES = 200;
const NEWLINE_BYTE = 10;
const NEWLINE: Buffer = Buffer.from("\n");
const sleeper: Int32Array = new Int32Array(new SharedArrayBuffer(4));
// Writes are synchronous, so one encode buffer serves every writer; `scratchBusy`
// covers re-entry (an onError callback that logs while a chunk is being written).
const scratch: Buffer = Buffer.allocUnsafe(3 * 64 * 1024);
let scratchBusy = false;

/**
 * Buffers lines in a string and writes them to `fd` with writeSync when the
 * current job ends (a microtask: a synchronous burst is one write, yet nothing
 * a caller prints after its next `await`, console.log included, can overtake
 * the lines) or when the buffer is full.
 */
export class FdWriter implements LineWriter {
  #fd: number;
  readonly #ownsFd: boolean;
  readonly #limit: number;
  readonly #listeners = new Set<(error: Error) => void>();
  #buffer = "";
  #scheduled = false;
  #closed = false;
  // A failed write left part of a line in a stream that cannot be cut back (a pipe, a
  // terminal): the next chunk starts with "\n" so that no record is glued to the torn one.
  #torn = false;
  readonly #truncatable: boolean;
  readonly #label: string | undefined;
  errors = 0;
  dropped = 0;
  /**
   * Called before each chunk with its byte count; may return a new fd to write to
   * (the file sink's rotation hook).
   */
  beforeChunk: ((bytes: number) => number | undefined) | undefined;
  /** Called after each chunk that was written whole, with its byte count. */
  afterChunk: ((bytes: number) => void) | undefined;

  /**
   * @param options.label what error messages call the destination (the file sink's path).
   * @param options.truncatable the fd is a regular file opened for appending that only this
   *   writer appends to (the file sink's): a write that fails part-way is cut back to its last
   *   whole line, so no torn record stays in the file.
   */
  constructor(
    fd: number,
    options: {
      ownsFd: boolean;
      bufferSize?: number | undefined;
      truncatable?: boolean | undefined;
      label?: string | undefined;
    } & WriterOptions,
  ) {
    this.#label = options.label;
    this.#fd = fd;
    this.#ownsFd = options.ownsFd;
    this.#truncatable = options.truncatable ?? false;
    this.#limit = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
    if (options.onError !== undefined) this.#listeners.add(options.onError);
    track(this);
  }

  write(line: string): void {
    if (this.#closed) {
      this.dropped++;
      return;
    }
    this.#buffer += line;
    if (this.#buffer.length >= this.#limit) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#onTick);
    }
  }

  readonly #onTick = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  flush(): void {
    const chunk = this.#buffer;
    if (chunk === "") return;
    this.#buffer = "";
    this.#writeAll(chunk);
  }

  #writeAll(chunk: string): void {
    // Encode once into a reused buffer (a string passed to writeSync would be
    // encoded again for every length check); huge chunks and re-entrant calls get their own.
    const useScratch = !scratchBusy && chunk.length * 3 <= scratch.length;
    const bytes = useScratch ? scratch.subarray(0, scratch.write(chunk, 0, "utf8")) : Buffer.from(chunk, "utf8");
    if (useScratch) scratchBusy = true;
    try {
      this.#writeBytes(bytes, chunk);
    } finally {
      if (useScratch) scratchBusy = false;
    }
  }

  #writeBytes(bytes: Buffer, chunk: string): void {
    if (this.beforeChunk !== undefined) {
      const fd = this.beforeChunk(bytes.length);
      if (fd !== undefined) {
        this.#fd = fd;
        this.#torn = false; // a fresh file
      }
    }
    if (this.#torn && !this.#writeWhole(NEWLINE, chunk, true)) return;
    this.#torn = false;
    if (!this.#writeWhole(bytes, chunk, false)) return;
    this.afterChunk?.(bytes.length);
  }

  /** Writes all of `bytes`; on failure accounts for what reached the fd and returns false. */
  #writeWhole(bytes: Buffer, chunk: string, separator: boolean): boolean {
    let offset = 0;
    let retries = 0;
    while (offset < bytes.length) {
      try {
        // A short write (a pipe, a nearly full disk) goes on with the rest; the next call
        // then writes more or fails (ENOSPC), and the failure is handled below.
        offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
      } catch (error) {
        // A non-blocking stdout pipe whose reader is slow: wait a little and retry, as sonic-boom does.
        if ((error as NodeJS.ErrnoException).code === "EAGAIN" && retries++ < EAGAIN_RETRIES) {
          Atomics.wait(sleeper, 0, 0, 10);
          continue;
        }
        this.#fail(error, bytes, offset, chunk, separator);
        return false;
      }
    }
    return true;
  }

  /**
   * A write failed after `written` bytes of `bytes` reached the fd. The lines written whole
   * stay and count as written; a torn last line is cut off the file (or, where that cannot be
   * done, ended by the next chunk's leading "\n"); every line not written whole is dropped
   * and counted once.
   */
  #fail(error: unknown, bytes: Buffer, written: number, chunk: string, separator: boolean): void {
    this.errors++;
    const whole = written === 0 ? 0 : bytes.lastIndexOf(NEWLINE_BYTE, written - 1) + 1;
    const torn = written - whole;
    let kept = whole;
    if (torn > 0) {
      kept = written;
      if (this.#truncatable) {
        try {
          ftruncateSync(this.#fd, fstatSync(this.#fd).size - torn);
          kept = whole;
        } catch (cause) {
          this.#report(new SinkWriteError(`could not cut a torn line off ${this.#what()}`, { cause }));
        }
      }
      if (kept !== whole) this.#torn = true;
    }
    if (!separator) {
      let wholeLines = 0;
      for (let i = bytes.indexOf(NEWLINE_BYTE); i !== -1 && i < whole; i = bytes.indexOf(NEWLINE_BYTE, i + 1))
        wholeLines++;
      this.dropped += countLines(chunk) - wholeLines;
    } else {
      this.dropped += countLines(chunk); // the separator itself failed: nothing of the chunk was written
    }
    if (kept > 0) this.afterChunk?.(kept);
    this.#report(new SinkWriteError(`write to ${this.#what()} failed`, { cause: error }));
  }

  /** What an error message names: the file, or the descriptor. */
  #what(): string {
    return this.#label === undefined ? `fd ${this.#fd}` : `${this.#label} (fd ${this.#fd})`;
  }

  /** The fd currently written to. */
  get fd(): number {
    return this.#fd;
  }

  /** Reports an error to every listener (used by the file sink for rotation failures). */
  report(error: Error): void {
    this.errors++;
    this.#report(error);
  }

  #report(error: Error): void {
    for (const listener of this.#listeners) report(listener, error);
  }

  /** Adds an error listener (stdout and stderr writers are shared by several sinks). */
  addErrorListener(listener: (error: Error) => void): void {
    this.#listeners.add(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    if (this.#fd === 1 || this.#fd === 2) return; // shared by every sink on stdout/stderr: flush only
    this.#closed = true;
    live.delete(this);
    if (this.#ownsFd) {
      try {
        fsyncSync(this.#fd); // a closed log file is on disk, not only in the page cache
        closeSync(this.#fd);
      } catch (error) {
        this.errors++;
        this.#report(new SinkWriteError(`close of ${this.#what()} failed`, { cause: error }));
      }
    }
  }
}

/** Writes each line to a user's stream as it comes (or once per job with `buffered`). */
export class StreamWriter implements LineWriter {
  readonly #stream: LineStream;
  readonly #buffered: boolean;
  readonly #onError: ((error: Error) => void) | undefined;
  #buffer = "";
  #scheduled = false;
  #closed = false;
  errors = 0;
  dropped = 0;

  constructor(stream: LineStream, options: { buffered?: boolean | undefined } & WriterOptions) {
    this.#stream = stream;
    this.#buffered = options.buffered ?? false;
    this.#onError = options.onError;
    // A buffered stream gets its last lines at exit too (a synchronous stream keeps them).
    if (this.#buffered) track(this);
  }

  write(line: string): void {
    if (this.#closed) {
      this.dropped++;
      return;
    }
    if (!this.#buffered) {
      this.#send(line);
      return;
    }
    this.#buffer += line;
    if (this.#buffer.length >= DEFAULT_BUFFER_SIZE) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#onTick);
    }
  }

  readonly #onTick = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  #send(chunk: string): void {
    try {
      this.#stream.write(chunk);
    } catch (error) {
      this.errors++;
      this.dropped += countLines(chunk);
      report(this.#onError, new SinkWriteError("stream.write failed", { cause: error }));
    }
  }

  flush(): void {
    const chunk = this.#buffer;
    if (chunk === "") return;
    this.#buffer = "";
    this.#send(chunk);
  }

  close(): void {
    this.flush();
    this.#closed = true;
    live.delete(this);
  }
}

// stdout and stderr are shared by every sink that writes to them, so lines
// from different loggers keep their order.
const stdWriters = new Map<number, FdWriter>();

/** The writer for a destination: a shared buffered writer for fd 1/2, a buffered one for other fds, a StreamWriter for a stream. */
export function writerFor(
  destination: LineStream | number | undefined,
  options: { buffered?: boolean | undefined } & WriterOptions,
): LineWriter {
  const target = destination ?? 1;
  if (typeof target === "number") {
    if (target === 1 || target === 2) {
      let writer = stdWriters.get(target);
      if (writer === undefined) {
        writer = new FdWriter(target, { ownsFd: false });
        stdWriters.set(target, writer);
      }
      if (options.onError !== undefined) writer.addErrorListener(options.onError);
      return writer;
    }
    return new FdWriter(target, { ownsFd: false, onError: options.onError });
  }
  return new StreamWriter(target, options);
}

export function countLines(chunk: string): number {
  let n = 0;
  for (let i = chunk.indexOf("\n"); i !== -1; i = chunk.indexOf("\n", i + 1)) n++;
  return n;
}

/** Hands an error to a user's callback; a throwing callback is ignored on purpose (logging must not throw). */
export function report(onError: ((error: Error) => void) | undefined, error: Error): void {
  if (onError === undefined) return;
  try {
    onError(error);
  } catch {
    // The callback is the last place an error can go; throwing from it must not reach the log call.
  }
}
