import {
  Agent as HttpAgent,
  type IncomingMessage,
  request as httpRequest,
  validateHeaderName,
  validateHeaderValue,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { HttpSinkError, InvalidArgumentError } from "./errors.ts";
import { jsonBase, type JsonBase, jsonObject } from "./line-format.ts";
import { report } from "./line-writer.ts";
import { LEVEL_VALUES } from "./levels.ts";
import {
  checkBase,
  checkOptionalFunction,
  checkOptionalLevel,
  checkOptionsObject,
  checkPositiveInt,
} from "./sink-options.ts";
import type { Level, LogRecord, Sink, SinkStats } from "./types.ts";

/** Options of `httpSink`. */
export interface HttpSinkOptions {
  /** Records per POST. @default 100 */
  batchSize?: number;
  /** A partial batch is sent after this many ms. @default 1000 */
  flushInterval?: number;
  /**
   * Records waiting to be sent, at most (besides the one batch in flight). When full,
   * the OLDEST waiting record is dropped and counted: a log call never waits.
   * @default 10000
   */
  maxBuffer?: number;
  /** Retries of a failed batch (network error, timeout, 408, 429, 5xx) before it is dropped and counted. @default 5 */
  retries?: number;
  /** First retry delay in ms; doubles per retry, with jitter, up to `maxBackoff`. @default 100 */
  minBackoff?: number;
  /** @default 10000 */
  maxBackoff?: number;
  /**
   * The most a request may take in ms, from sending to the end of the answer (then it is
   * aborted and the attempt counts as failed), however slowly the server trickles. @default 10000
   */
  timeout?: number;
  /** `flush()` resolves after at most this many ms even if the server is still failing. @default 10000 */
  flushTimeout?: number;
  /** Body layout: a JSON array of records, or one JSON object per line. @default "json" */
  format?: "json" | "ndjson";
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** Called with every failed attempt and every drop (an `HttpSinkError`). Never thrown. */
  onError?: (error: Error) => void;
  /** The least severe level this sink sends (see `StreamSinkOptions.level`). @default undefined (all) */
  level?: Level;
  /** The fields every record carries, as `JsonSinkOptions.base`. @default { pid, hostname } */
  base?: Readonly<Record<string, unknown>> | null;
}

/** Counters of an HTTP sink. */
export interface HttpSinkStats extends SinkStats {
  /** Records delivered (answered 2xx). */
  sent: number;
  /** POSTs answered 2xx. */
  batches: number;
  /** Attempts that were retries. */
  retries: number;
  /** Records waiting, in flight included. */
  buffered: number;
}

/** A sink that POSTs batches; `stats()` has the HTTP counters. */
export interface HttpSink extends Sink {
  stats(): HttpSinkStats;
  flush(): Promise<void>;
  close(): Promise<void>;
}

// Sinks with records still waiting get one last immediate attempt when the
// event loop runs dry (`beforeExit`); `process.exit()` cannot wait for I/O.
const live = new Set<HttpSinkImpl>();
let hookInstalled = false;

function onBeforeExit(): void {
  for (const sink of live) sink.lastChance();
}

class HttpSinkImpl {
  readonly #url: URL;
  readonly #batchSize: number;
  readonly #interval: number;
  readonly #maxBuffer: number;
  readonly #retries: number;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  readonly #timeout: number;
  readonly #flushTimeout: number;
  readonly #ndjson: boolean;
  readonly #headers: Record<string, string>;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #agent: HttpAgent;
  readonly #base: JsonBase;
  #queue: string[] = [];
  #inFlight = 0; // records in the batch being sent or waiting for its retry
  #timer: NodeJS.Timeout | undefined;
  #exiting = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  readonly counters = { errors: 0, dropped: 0, sent: 0, batches: 0, retries: 0 };

  constructor(url: URL, options: HttpSinkOptions | undefined) {
    this.#url = url;
    this.#batchSize = options?.batchSize ?? 100;
    this.#interval = options?.flushInterval ?? 1000;
    this.#maxBuffer = options?.maxBuffer ?? 10_000;
    this.#retries = options?.retries ?? 5;
    this.#minBackoff = options?.minBackoff ?? 100;
    this.#maxBackoff = options?.maxBackoff ?? 10_000;
    this.#timeout = options?.timeout ?? 10_000;
    this.#flushTimeout = options?.flushTimeout ?? 10_000;
    this.#ndjson = options?.format === "ndjson";
    this.#headers = { ...options?.headers };
    this.#onError = options?.onError;
    this.#base = jsonBase(options?.base);
    this.#agent = url.protocol === "https:" ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  push(record: LogRecord): void {
    if (this.#closed) {
      this.counters.dropped++;
      return;
    }
    if (this.#queue.length >= this.#maxBuffer) {
      this.#queue.shift();
      this.counters.dropped++;
    }
    this.#queue.push(jsonObject(record, this.#base));
    if (!hookInstalled) {
      hookInstalled = true;
      process.on("beforeExit", onBeforeExit);
    }
    live.add(this);
    if (this.#inFlight === 0) {
      if (this.#queue.length >= this.#batchSize) this.#sendNext();
      else this.#arm();
    }
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sendNext();
    }, this.#interval);
    this.#timer.unref(); // a pending partial batch must not keep the process alive; beforeExit sends it
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sendNext(): void {
    if (this.#inFlight !== 0) return;
    this.#disarm();
    if (this.#queue.length === 0) {
      this.#settleIdle();
      return;
    }
    const batch = this.#queue.splice(0, this.#batchSize);
    this.#inFlight = batch.length;
    this.#attempt(batch, 0);
  }

  #attempt(batch: string[], attempt: number): void {
    const body = this.#ndjson ? batch.join("\n") + "\n" : "[" + batch.join(",") + "]";
    this.#post(body, (error, status) => {
      if (this.#closed) return; // close() has already counted this batch as dropped
      if (error === undefined) {
        this.counters.sent += batch.length;
        this.counters.batches++;
        this.#inFlight = 0;
        this.#afterBatch();
        return;
      }
      this.counters.errors++;
      const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
      if (retryable && attempt < this.#retries && !this.#exiting && !this.#closed) {
        report(this.#onError, error);
        this.counters.retries++;
        const delay = Math.min(this.#maxBackoff, this.#minBackoff * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#attempt(batch, attempt + 1);
        }, delay);
        this.#timer.unref(); // see #arm; lastChance() takes over at exit
        this.#retryBatch = batch;
        this.#retryAttempt = attempt + 1;
        return;
      }
      this.counters.dropped += batch.length;
      this.#inFlight = 0;
      report(
        this.#onError,
        new HttpSinkError(
          `dropped ${batch.length} log records after ${attempt + 1} attempt(s): ${error.message}`,
          status,
          {
            cause: error,
          },
        ),
      );
      this.#afterBatch();
    });
  }

  #retryBatch: string[] | undefined;
  #retryAttempt = 0;

  #afterBatch(): void {
    this.#retryBatch = undefined;
    if (this.#queue.length >= this.#batchSize || this.#exiting || this.#idleWaiters.length > 0) this.#sendNext();
    else if (this.#queue.length > 0) this.#arm();
    else this.#settleIdle();
  }

  #post(body: string, done: (error: HttpSinkError | undefined, status?: number) => void): void {
    let finished = false;
    let deadline: NodeJS.Timeout | undefined;
    const finish = (error: HttpSinkError | undefined, status?: number): void => {
      if (finished) return;
      finished = true;
      if (deadline !== undefined) clearTimeout(deadline);
      done(error, status);
    };
    const request = this.#url.protocol === "https:" ? httpsRequest : httpRequest;
    try {
      const req = request(this.#url, {
        method: "POST",
        agent: this.#agent,
        headers: {
          "content-type": this.#ndjson ? "application/x-ndjson" : "application/json",
          "content-length": Buffer.byteLength(body),
          ...this.#headers,
        },
      });
      // The timeout bounds the whole exchange, from the request to the end of the answer's
      // body: a socket timeout only notices silence, and a server trickling a header line
      // every 200 ms kept a request (and the process) alive forever.
      deadline = setTimeout(() => {
        const error = new Error(`no complete answer within ${this.#timeout} ms`);
        // Answered here: once the answer has begun, destroying the request may not emit "error".
        finish(
          new HttpSinkError(`POST ${this.#url.origin}${this.#url.pathname} failed: ${error.message}`, undefined, {
            cause: error,
          }),
        );
        req.destroy(error);
      }, this.#timeout);
      req.on("error", (error) => {
        finish(
          new HttpSinkError(`POST ${this.#url.origin}${this.#url.pathname} failed: ${error.message}`, undefined, {
            cause: error,
          }),
        );
      });
      req.on("response", (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        res.resume(); // drain the body so the socket can be reused
        res.on("error", (error) => {
          finish(
            new HttpSinkError(
              `POST ${this.#url.origin}${this.#url.pathname}: response failed: ${error.message}`,
              status,
              { cause: error },
            ),
          );
        });
        res.on("end", () => {
          if (status >= 200 && status < 300) finish(undefined, status);
          else
            finish(
              new HttpSinkError(`POST ${this.#url.origin}${this.#url.pathname} answered ${status}`, status),
              status,
            );
        });
      });
      req.end(body);
    } catch (error) {
      finish(
        new HttpSinkError(`POST ${this.#url.origin}${this.#url.pathname} could not start`, undefined, { cause: error }),
      );
    }
  }

  #settleIdle(): void {
    if (this.#queue.length > 0 || this.#inFlight !== 0) return;
    // beforeExit can fire and the process still go on (new work was scheduled): retry normally again.
    this.#exiting = false;
    live.delete(this);
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The event loop ran dry with records waiting: one immediate attempt per batch, no more retries. */
  lastChance(): void {
    this.#exiting = true;
    if (this.#retryBatch !== undefined && this.#timer !== undefined) {
      this.#disarm();
      const batch = this.#retryBatch;
      this.#attempt(batch, this.#retryAttempt);
      return;
    }
    this.#sendNext();
  }

  flush(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== done);
        resolve();
      }, this.#flushTimeout);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#idleWaiters.push(done);
      if (this.#inFlight === 0) this.#sendNext();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#disarm();
    const left = this.#queue.length + this.#inFlight;
    if (left > 0) {
      this.counters.dropped += left;
      report(this.#onError, new HttpSinkError(`closed with ${left} log records undelivered`));
    }
    this.#queue = [];
    this.#inFlight = 0;
    this.#retryBatch = undefined;
    live.delete(this);
    this.#agent.destroy();
  }

  stats(): HttpSinkStats {
    return { ...this.counters, buffered: this.#queue.length + this.#inFlight };
  }
}

/**
 * Sends records to `url` as batched POSTs of JSON (pino's field names, as `jsonSink`).
 *
 * A log call only serializes the record and queues it: it never waits and never throws.
 * Batches go out when `batchSize` records are waiting or `flushInterval` ms after the first
 * one, one request at a time. A failed batch (network error, timeout, 408, 429, 5xx) is
 * retried with exponential backoff and jitter, then dropped and counted; other 4xx answers
 * are dropped at once. When `maxBuffer` records wait, the oldest is dropped and counted.
 * When the event loop runs dry (`beforeExit`) waiting records get one last attempt;
 * `process.exit()` cannot wait for the network, so call `await logger.close()` first.
 *
 * @throws {InvalidArgumentError} for a URL that is not http(s) or bad options.
 * @example
 * const remote = httpSink("https://logs.example.com/ingest", { headers: { authorization: "Bearer …" } });
 * const log = createLogger({ sinks: [textSink(), remote] });
 * // … at shutdown:
 * await log.close(); remote.stats(); // { sent, dropped, errors, retries, … }
 */
export function httpSink(url: string | URL, options?: HttpSinkOptions): HttpSink {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError("httpSink url", "an http: or https: URL", url);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InvalidArgumentError("httpSink url", "an http: or https: URL", String(url));
  }
  checkOptionsObject("httpSink", options);
  for (const key of [
    "batchSize",
    "maxBuffer",
    "flushInterval",
    "minBackoff",
    "maxBackoff",
    "timeout",
    "flushTimeout",
  ] as const) {
    checkPositiveInt(`httpSink option ${key}`, options?.[key]);
  }
  checkPositiveInt("httpSink option retries", options?.retries, 0);
  if (options?.format !== undefined && options.format !== "json" && options.format !== "ndjson") {
    throw new InvalidArgumentError("httpSink option format", '"json" or "ndjson"', options.format);
  }
  const headers = options?.headers;
  if (
    headers !== undefined &&
    (typeof headers !== "object" || headers === null || Object.values(headers).some((v) => typeof v !== "string"))
  ) {
    throw new InvalidArgumentError("httpSink option headers", "an object of strings", headers);
  }
  for (const [name, value] of Object.entries(headers ?? {})) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      throw new InvalidArgumentError(`httpSink header ${JSON.stringify(name)}`, "a valid HTTP header", value);
    }
  }
  checkOptionalFunction("httpSink option onError", options?.onError);
  checkOptionalLevel(options?.level);
  checkBase("httpSink", options);
  const min = options?.level === undefined ? 0 : LEVEL_VALUES[options.level];
  const impl = new HttpSinkImpl(parsed, options);
  const sink = (record: LogRecord): void => {
    try {
      if (min !== 0 && (LEVEL_VALUES[record.level] ?? 0) < min) return;
      impl.push(record);
    } catch (error) {
      // Only a record that is not a LogRecord gets here (a direct call with garbage).
      impl.counters.errors++;
      impl.counters.dropped++;
      report(options?.onError, new HttpSinkError("could not serialize the record", undefined, { cause: error }));
    }
  };
  sink.flush = (): Promise<void> => impl.flush();
  sink.close = (): Promise<void> => impl.close();
  sink.stats = (): HttpSinkStats => impl.stats();
  return sink;
}
