// caller side: pick a node, publish, answer once (reply, 408, 503 on node death or disconnect, abort).
import type { Event, Reply } from "@mk/core";
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { batchElement, decodeBatchReply, H_BATCH, MAX_BATCH } from "./batch-wire.ts";
import { DeadlineBuckets, type Expiring } from "./deadline-buckets.ts";
import { headerBlock } from "./header-block.ts";
import type { LogLimiter } from "./log-limiter.ts";
import type { Subjects } from "./subjects.ts";
import type { ClusterView } from "./view.ts";
import {
  budgetHeader,
  type CallKind,
  decodeReply,
  encodeRequestBody,
  H_BUDGET,
  H_KIND,
  H_NODE,
  H_RETRY,
  H_WIRE,
  WIRE_VERSION,
} from "./wire.ts";

/** What the kernel's bus tells the router about a call it could not deliver locally. */
export interface RouteOptions {
  /** Pushed (through the receiving kernel's queue) rather than sent. */
  push: boolean;
  /** The call's deadline budget in ms, counted from now. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Granularity of the callers' deadlines. */
const TICK_MS = 5;

/** Calls sent together in one batch message, until each is answered. */
interface OutBatch {
  readonly id: string;
  readonly calls: OutCall[];
  open: number;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** `B`: the first character of a batch's reply token (call ids are lowercase base 36). */
const BATCH_MARK = 66;

class OutCall implements Expiring {
  readonly id: string;
  readonly service: string;
  readonly type: string;
  readonly kind: CallKind;
  /** The call's JSON body (`encodeRequestBody`). */
  readonly body: string;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: unknown) => void;
  node = "";
  tried: Set<string> | undefined;
  batch: OutBatch | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  bucket = -1;
  /** Waiting for a node to serve its stateful service (between an owner's death and the takeover). */
  held = false;
  /** The event, kept while held, to deliver here if this node takes the service over. */
  event: Event | undefined;

  constructor(
    id: string,
    service: string,
    type: string,
    kind: CallKind,
    body: string,
    timeoutMs: number,
    resolve: (reply: Reply) => void,
    reject: (error: unknown) => void,
  ) {
    this.id = id;
    this.service = service;
    this.type = type;
    this.kind = kind;
    this.body = body;
    this.timeoutMs = timeoutMs;
    this.deadline = performance.now() + timeoutMs;
    this.resolve = resolve;
    this.reject = reject;
  }
}

export interface OutboundOptions {
  nc: NatsConnection;
  subjects: Subjects;
  view: ClusterView;
  maxPayloadBytes: number;
  limiter: LogLimiter;
  /** True for a service with state (one owner): with no node serving it, its calls wait for a takeover. */
  holdable?: (service: string) => boolean;
  /** True when this node's kernel now serves `service` (it took over): held calls go there. */
  servesHere?: (service: string) => boolean;
  /** Delivers a held call to this node's kernel. */
  deliverHere?: (event: Event, push: boolean, timeoutMs: number) => Promise<Reply>;
}

/**
 * The caller's side: sends calls for services that do not run here to a node
 * that runs them, and answers each call exactly once: with the remote reply,
 * 408 at its deadline, 503 when the node dies or this connection drops, or a
 * rejection when the caller's signal aborts.
 *
 * Replies come back on one wildcard inbox subscription (`<inbox>.<call id>`),
 * so calls pipeline on one subject and no per-call subscription or timer exists.
 */
export class Outbound {
  readonly #nc: NatsConnection;
  readonly #subjects: Subjects;
  readonly #view: ClusterView;
  readonly #maxPayloadBytes: number;
  readonly #limiter: LogLimiter;
  readonly #inbox: string;
  readonly #pending = new Map<string, OutCall>();
  readonly #deadlines = new DeadlineBuckets<OutCall>(TICK_MS, (call) => this.#expire(call));
  /** Calls waiting for this tick's flush, by node. */
  #queues = new Map<string, OutCall[]>();
  #flushScheduled = false;
  readonly #batches = new Map<string, OutBatch>();
  #nextBatch = 0;
  #subscription: Subscription | undefined;
  #nextId = 0;
  #offline = false;
  #closedReason: string | undefined;
  /** Held calls by service. */
  readonly #held = new Map<string, Set<OutCall>>();
  readonly #holdable: (service: string) => boolean;
  readonly #servesHere: (service: string) => boolean;
  readonly #deliverHere: ((event: Event, push: boolean, timeoutMs: number) => Promise<Reply>) | undefined;

  constructor(options: OutboundOptions) {
    this.#holdable = options.holdable ?? (() => false);
    this.#servesHere = options.servesHere ?? (() => false);
    this.#deliverHere = options.deliverHere;
    this.#nc = options.nc;
    this.#subjects = options.subjects;
    this.#view = options.view;
    this.#maxPayloadBytes = options.maxPayloadBytes;
    this.#limiter = options.limiter;
    this.#inbox = createInbox();
  }

  start(): void {
    this.#subscription = this.#nc.subscribe(`${this.#inbox}.*`, { callback: this.#onReply });
  }

  /** Calls waiting for a remote reply. */
  get pending(): number {
    return this.#pending.size;
  }

  /** While the connection is down, calls are answered 503 at once. */
  set offline(value: boolean) {
    this.#offline = value;
  }

  /**
   * Sends `event` to a node that runs its target. `undefined` when no node
   * has run it since this node joined (the kernel then answers 404 as it
   * would alone).
   * @throws {WireEncodeError} (a rejection) when the content cannot travel.
   */
  route(event: Event, options: RouteOptions): Promise<Reply> | undefined {
    const service = event.to as string;
    const node = this.#view.pick(service);
    const hold = node === undefined && this.#closedReason === undefined && this.#holdable(service);
    if (node === undefined && !hold) {
      const last = this.#view.lastKnown(service);
      if (last === undefined) return undefined;
      return Promise.resolve(unavailable(`service "${service}" has no live node (it last ran on node "${last}")`));
    }
    if (this.#closedReason !== undefined) return Promise.resolve(unavailable(this.#closedReason));
    if (this.#offline) {
      if (node === undefined) return Promise.resolve(unavailable(`service "${service}": the NATS connection is down`));
      return Promise.resolve(unavailable(`service "${service}" is on node "${node}" but the NATS connection is down`));
    }
    let body: string;
    try {
      body = encodeRequestBody(service, event.from, event.type, event.content, this.#maxPayloadBytes);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const kind: CallKind = options.push ? "push" : "send";
    return new Promise<Reply>((resolve, reject) => {
      const call = new OutCall(
        (this.#nextId++).toString(36),
        service,
        event.type,
        kind,
        body,
        options.timeoutMs,
        resolve,
        reject,
      );
      const signal = options.signal;
      if (signal !== undefined) {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        call.signal = signal;
        call.onAbort = () => {
          if (this.#settle(call)) call.reject(signal.reason);
        };
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      this.#pending.set(call.id, call);
      this.#deadlines.add(call);
      if (node === undefined) {
        call.event = event;
        this.#hold(call);
      } else this.#enqueue(call, node);
    });
  }

  /** Parks `call` until a node serves its service (see {@link Outbound.wake}) or its deadline passes. */
  #hold(call: OutCall): void {
    call.held = true;
    call.node = "";
    call.tried = undefined;
    let set = this.#held.get(call.service);
    if (set === undefined) this.#held.set(call.service, (set = new Set()));
    set.add(call);
  }

  /** Calls held for stateful services without a serving node. */
  get held(): number {
    let n = 0;
    for (const set of this.#held.values()) n += set.size;
    return n;
  }

  /** Sends the held calls whose service a node (this one, or another) now serves. */
  wake(): void {
    if (this.#held.size === 0 || this.#offline || this.#closedReason !== undefined) return;
    for (const [service, set] of Array.from(this.#held)) {
      if (this.#servesHere(service) && this.#deliverHere !== undefined) {
        this.#held.delete(service);
        for (const call of set) {
          const event = call.event as Event;
          const left = Math.max(1, Math.floor(call.deadline - performance.now()));
          if (!this.#settle(call)) continue;
          this.#deliverHere(event, call.kind === "push", left).then(call.resolve, call.reject);
        }
        continue;
      }
      const node = this.#view.pick(service);
      if (node === undefined) continue;
      this.#held.delete(service);
      for (const call of set) {
        call.held = false;
        call.event = undefined;
        this.#enqueue(call, node);
      }
    }
  }

  /**
   * Calls made in the same tick leave together: one call goes as a call
   * message, several to one node as one batch (see `batch-wire.ts`), so calls
   * in flight share messages instead of paying one each way per call.
   */
  #enqueue(call: OutCall, node: string): void {
    call.node = node;
    const queue = this.#queues.get(node);
    if (queue === undefined) this.#queues.set(node, [call]);
    else queue.push(call);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      void RESOLVED.then(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const queues = this.#queues;
    this.#queues = new Map();
    for (const [node, queued] of queues) {
      // Answered while queued (deadline, abort, node gone): nothing to send.
      const calls = queued.filter((call) => this.#pending.has(call.id));
      // Chunks within the batch limits; a body counts at most 3 bytes per character.
      let chunk: OutCall[] = [];
      let size = 2;
      for (const call of calls) {
        const grow = call.body.length * 3 + 80;
        if (chunk.length > 0 && (chunk.length >= MAX_BATCH || size + grow > this.#maxPayloadBytes)) {
          this.#send(node, chunk);
          chunk = [];
          size = 2;
        }
        chunk.push(call);
        size += grow;
      }
      if (chunk.length > 0) this.#send(node, chunk);
    }
  };

  #send(node: string, calls: OutCall[]): void {
    if (calls.length === 1) {
      this.#dispatch(calls[0] as OutCall, node);
      return;
    }
    const batch: OutBatch = { id: (this.#nextBatch++).toString(36), calls, open: calls.length };
    const now = performance.now();
    let body = "[";
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i] as OutCall;
      call.batch = batch;
      if (i > 0) body += ",";
      body += batchElement(call.id, call.service, call.kind, budgetHeader(call.deadline - now), call.body);
    }
    body += "]";
    this.#batches.set(batch.id, batch);
    try {
      this.#nc.publish(this.#subjects.batch(node), body, {
        reply: `${this.#inbox}.B${batch.id}`,
        headers: headerBlock([
          [H_WIRE, WIRE_VERSION],
          [H_BATCH, String(calls.length)],
        ]),
      });
    } catch (error) {
      for (const call of calls) {
        if (this.#settle(call)) {
          call.resolve(
            unavailable(`service "${call.service}" on node "${node}": cannot publish (${(error as Error).message})`),
          );
        }
      }
    }
  }

  /** Answers 503 every call in flight on `node` (it died, restarted or left). */
  failNode(node: string, why: string): void {
    for (const call of Array.from(this.#pending.values())) {
      if (call.node !== node) continue;
      if (this.#settle(call)) call.resolve(unavailable(`service "${call.service}" on node "${node}": ${why}`));
    }
  }

  /** Answers 503 every call in flight (the connection dropped, or this node leaves). */
  failAll(why: string): void {
    for (const call of Array.from(this.#pending.values())) {
      if (this.#settle(call)) call.resolve(unavailable(`service "${call.service}" on node "${call.node}": ${why}`));
    }
  }

  /** Answers every call in flight 503 and refuses new ones with `why`. */
  close(why: string): void {
    this.#closedReason = why;
    this.failAll(why);
    this.#deadlines.close();
    this.#subscription?.unsubscribe();
  }

  /** Publishes `call` to `node`, or answers it when that cannot be done. */
  #dispatch(call: OutCall, node: string): void {
    call.node = node;
    const h = headerBlock([
      [H_WIRE, WIRE_VERSION],
      [H_KIND, call.kind],
      [H_BUDGET, budgetHeader(call.deadline - performance.now())],
    ]);
    try {
      this.#nc.publish(this.#subjects.call(node, call.service), call.body, {
        reply: `${this.#inbox}.${call.id}`,
        headers: h,
      });
    } catch (error) {
      if (this.#settle(call)) {
        call.resolve(
          unavailable(`service "${call.service}" on node "${node}": cannot publish (${(error as Error).message})`),
        );
      }
    }
  }

  /** Another node, if one can still take the call (nothing ran on the last one). */
  #retry(call: OutCall, why: string): void {
    (call.tried ??= new Set()).add(call.node);
    const next = this.#view.pick(call.service, call.tried);
    if (next === undefined && call.deadline - performance.now() >= 1 && this.#holdable(call.service)) {
      // Nothing ran: wait for the service's next owner (a takeover or a handover in progress).
      this.#hold(call);
      return;
    }
    if (next === undefined || call.deadline - performance.now() < 1) {
      if (this.#settle(call)) call.resolve(unavailable(`service "${call.service}": ${why}`));
      return;
    }
    this.#dispatch(call, next);
  }

  readonly #onReply = (error: Error | null, msg: Msg): void => {
    if (error !== null) return;
    const id = msg.subject.slice(this.#inbox.length + 1);
    if (id.charCodeAt(0) === BATCH_MARK) {
      this.#onBatchReply(id.slice(1), msg);
      return;
    }
    const call = this.#pending.get(id);
    if (call === undefined) return; // late: the caller already has its answer
    const h = msg.headers;
    if (h !== undefined && h.code === 503 && msg.data.length === 0) {
      // NATS no-responders: nothing listens on that node's call subject (it died or left).
      this.#retry(call, `node "${call.node}" does not answer (no responders)`);
      return;
    }
    const get = h === undefined ? noHeader : (name: string): string => h.get(name);
    if (get(H_RETRY) === "1") {
      const reply = decodeReply(get, msg.data, this.#maxPayloadBytes);
      this.#retry(call, "problem" in reply ? `node "${call.node}" cannot take it` : reply.message);
      return;
    }
    const reply = decodeReply(get, msg.data, this.#maxPayloadBytes);
    if (!this.#settle(call)) return;
    if ("problem" in reply) {
      const from = get(H_NODE) || call.node;
      this.#limiter.warn("malformed reply from node %s for %s: %s", from, call.service, reply.problem);
      call.resolve({
        code: 500,
        message: `service "${call.service}" on node "${call.node}": malformed reply (${reply.problem})`,
      });
      return;
    }
    call.resolve(reply);
  };

  #onBatchReply(batchId: string, msg: Msg): void {
    const batch = this.#batches.get(batchId);
    if (batch === undefined) return; // every call of it is answered already
    const open = (): OutCall[] => batch.calls.filter((call) => this.#pending.get(call.id) === call);
    const h = msg.headers;
    const node = (batch.calls[0] as OutCall).node;
    if (h !== undefined && h.code === 503 && msg.data.length === 0) {
      for (const call of open()) this.#retry(call, `node "${call.node}" does not answer (no responders)`);
      return;
    }
    const get = h === undefined ? noHeader : (name: string): string => h.get(name);
    if (get(H_BATCH) === "") {
      // One plain reply for the whole batch (it could not be read there).
      const reply = decodeReply(get, msg.data, this.#maxPayloadBytes);
      const answer: Reply =
        "problem" in reply
          ? { code: 500, message: `node "${node}": malformed reply to a batch (${reply.problem})` }
          : reply;
      if ("problem" in reply) this.#limiter.warn("malformed reply to a batch from node %s: %s", node, reply.problem);
      for (const call of open()) {
        if (get(H_RETRY) === "1") this.#retry(call, answer.message);
        else if (this.#settle(call)) call.resolve(answer);
      }
      return;
    }
    const replies = decodeBatchReply(msg.data, this.#maxPayloadBytes * 4);
    if ("problem" in replies) {
      this.#limiter.warn("malformed batch reply from node %s: %s", node, replies.problem);
      for (const call of open()) {
        if (this.#settle(call)) {
          call.resolve({
            code: 500,
            message: `service "${call.service}" on node "${node}": malformed reply (${replies.problem})`,
          });
        }
      }
      return;
    }
    for (const { id, reply, retry } of replies) {
      const call = this.#pending.get(id);
      // Only the batch's own calls: a reply cannot answer a call it was not sent for.
      if (call === undefined || call.batch !== batch) continue;
      if (retry) this.#retry(call, reply.message);
      else if (this.#settle(call)) call.resolve(reply);
    }
  }

  #expire(call: OutCall): void {
    call.bucket = -1;
    if (!this.#settle(call)) return;
    call.resolve({
      code: 408,
      message:
        call.node === ""
          ? `service "${call.service}": no node took it over within the call's ${call.timeoutMs} ms`
          : `service "${call.service}" on node "${call.node}" did not reply to "${call.type}" within ${call.timeoutMs} ms`,
    });
  }

  /** Marks `call` answered; false when it already was (so nothing is answered twice). */
  #settle(call: OutCall): boolean {
    if (!this.#pending.delete(call.id)) return false;
    this.#deadlines.remove(call);
    if (call.held) {
      call.held = false;
      const set = this.#held.get(call.service);
      set?.delete(call);
      if (set?.size === 0) this.#held.delete(call.service);
    }
    const batch = call.batch;
    if (batch !== undefined && --batch.open === 0) this.#batches.delete(batch.id);
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    return true;
  }
}

function unavailable(message: string): Reply {
  return { code: 503, message };
}

function noHeader(): string {
  return "";
}
