// serving side: one wildcard subscription, every call answered or dropped with a log line.
import { describeThrown } from "@mk/common";
import type { Event, Kernel, Reply } from "@mk/core";
import { headers, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { decodeBatch, H_BATCH, MAX_BATCH, replyElement } from "./batch-wire.ts";
import { headerBlock } from "./header-block.ts";
import type { LogLimiter } from "./log-limiter.ts";
import { isName } from "./names.ts";
import { QUEUE_GROUP, serviceOfCall, type Subjects } from "./subjects.ts";
import {
  decodeRequest,
  encodeReply,
  H_CODE,
  H_NODE,
  H_RETRY,
  H_SERVICE_ERROR,
  H_SERVICE_ERROR_CODE,
  H_WIRE,
  quote,
  WIRE_VERSION,
  type WireRequest,
} from "./wire.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** Headers of a batch reply message of `count` replies. */
function batchHeaders(count: number): MsgHdrs {
  return headerBlock([
    [H_WIRE, WIRE_VERSION],
    [H_BATCH, String(count)],
  ]);
}

export interface InboundOptions {
  nc: NatsConnection;
  kernel: Kernel;
  node: string;
  subjects: Subjects;
  maxPayloadBytes: number;
  limiter: LogLimiter;
  /** True when `service` runs here and takes calls. */
  takes: (service: string) => boolean;
  /** Events that came from the wire: the router must not send them on again. */
  fromWire: WeakSet<Event>;
}

/**
 * The serving side: one wildcard subscription on this node's call subjects.
 * Every message is answered (when it has a reply subject) or dropped with a
 * log line; nothing in it is executed, it only names a service that must be
 * running here and carries data for its handler.
 */
export class Inbound {
  readonly #o: InboundOptions;
  #subscription: Subscription | undefined;
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #batchSubscription: Subscription | undefined;
  /** Queue-group subscriptions of the services taking calls here, by name. */
  readonly #queues = new Map<string, Subscription>();
  #replies = new Map<string, Record<string, unknown>[]>();
  #flushScheduled = false;
  /** The headers of every code-0 reply from this node, built once. */
  readonly #ok: MsgHdrs;

  constructor(options: InboundOptions) {
    this.#o = options;
    this.#ok = headerBlock([
      [H_WIRE, WIRE_VERSION],
      [H_CODE, "0"],
      [H_NODE, options.node],
    ]);
  }

  start(): void {
    const { nc, subjects, node } = this.#o;
    this.#subscription = nc.subscribe(subjects.callsOf(node), { callback: this.#onCall });
    this.#batchSubscription = nc.subscribe(subjects.batch(node), { callback: this.#onBatch });
  }

  /**
   * Joins or leaves the queue group of `service` (`mk.<ns>.svc.<service>`),
   * so that clients other than mk nodes reach a node running it, balanced by
   * NATS. A service stops taking these calls as soon as it stops running here.
   */
  serve(service: string, taking: boolean): void {
    const current = this.#queues.get(service);
    if (taking === (current !== undefined) || this.#subscription === undefined) return;
    if (current !== undefined) {
      this.#queues.delete(service);
      // Drain: calls already delivered to this client are still answered.
      current.drain().catch(() => undefined);
      return;
    }
    const { nc, subjects } = this.#o;
    this.#queues.set(service, nc.subscribe(subjects.service(service), { queue: QUEUE_GROUP, callback: this.#onCall }));
  }

  /** Calls being handled here for other nodes. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Stops taking calls (messages already delivered to this client are still
   * answered), then waits, at most `timeoutMs`, for the calls in flight.
   */
  async stop(timeoutMs: number): Promise<void> {
    const subscriptions = [this.#subscription, this.#batchSubscription, ...this.#queues.values()];
    this.#subscription = undefined;
    this.#batchSubscription = undefined;
    this.#queues.clear();
    for (const subscription of subscriptions) {
      if (subscription === undefined || subscription.isClosed()) continue;
      try {
        await subscription.drain();
      } catch {
        // The connection is already closed: nothing more can arrive.
      }
    }
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  readonly #onCall = (error: Error | null, msg: Msg): void => {
    if (error !== null) return;
    try {
      this.#handle(msg);
    } catch (thrown) {
      // Never let a message break the subscription.
      this.#o.limiter.warn("call on %s could not be handled: %s", msg.subject, describeThrown(thrown, 500));
    }
  };

  #handle(msg: Msg): void {
    const { limiter, node } = this.#o;
    if (msg.reply === undefined || msg.reply === "") {
      limiter.warn("dropped a message without a reply subject on %s (node %s)", msg.subject, node);
      return;
    }
    const service = serviceOfCall(msg.subject);
    if (service === undefined || !isName(service)) {
      this.#respond(msg, "?", { code: 500, message: `malformed call subject on node "${node}"` }, false);
      limiter.warn("malformed call subject %s on node %s", msg.subject, node);
      return;
    }
    const h = msg.headers;
    const get = h === undefined ? noHeader : (name: string): string => h.get(name);
    const request = decodeRequest(get, msg.data, this.#o.maxPayloadBytes);
    if ("problem" in request) {
      limiter.warn("malformed call to %s on node %s: %s", service, node, request.problem);
      this.#respond(
        msg,
        service,
        { code: 500, message: `malformed call to "${service}" on node "${node}": ${request.problem}` },
        false,
      );
      return;
    }
    this.#run(service, request, (reply, retry) => this.#respond(msg, service, reply, retry));
  }

  /**
   * Answers one decoded call through `answer`, exactly once: 408 when its
   * budget is spent, 503 (retry elsewhere) when the service does not take calls
   * here, else the local kernel's reply.
   */
  #run(service: string, request: WireRequest, answer: (reply: Reply, retry: boolean) => void): void {
    const node = this.#o.node;
    if (request.budgetMs === 0) {
      answer(
        {
          code: 408,
          message: `call "${request.type}" to "${service}" reached node "${node}" with its deadline passed; not run`,
        },
        false,
      );
      return;
    }
    if (!this.#o.takes(service)) {
      answer({ code: 503, message: `service "${service}" is not running on node "${node}"` }, true);
      return;
    }
    const event: Event = { to: service, from: request.from, type: request.type, timeoutMs: request.budgetMs };
    if ("content" in request) event.content = request.content;
    this.#o.fromWire.add(event);
    const kernel = this.#o.kernel;
    let result: Promise<Reply>;
    try {
      result = request.kind === "push" ? kernel.push(event) : kernel.send(event);
    } catch (thrown) {
      result = Promise.reject(thrown as Error);
    }
    this.#inFlight++;
    result.then(
      (reply) => this.#done(answer, reply, false),
      (thrown: unknown) => {
        const closed = (thrown as { code?: unknown })?.code === "KERNEL_CLOSED";
        const why = describeThrown(thrown, 500);
        this.#done(answer, { code: closed ? 503 : 500, message: `node "${node}": ${why}` }, closed);
      },
    );
  }

  #done(answer: (reply: Reply, retry: boolean) => void, reply: Reply, retry: boolean): void {
    answer(reply, retry);
    if (--this.#inFlight === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  readonly #onBatch = (error: Error | null, msg: Msg): void => {
    if (error !== null) return;
    try {
      this.#handleBatch(msg);
    } catch (thrown) {
      this.#o.limiter.warn("batch on %s could not be handled: %s", msg.subject, describeThrown(thrown, 500));
    }
  };

  #handleBatch(msg: Msg): void {
    const { limiter, node } = this.#o;
    const to = msg.reply;
    if (to === undefined || to === "") {
      limiter.warn("dropped a message without a reply subject on %s (node %s)", msg.subject, node);
      return;
    }
    const h = msg.headers;
    const version = h?.get(H_WIRE) ?? "";
    const count = h?.get(H_BATCH) ?? "";
    const calls =
      version !== WIRE_VERSION
        ? { problem: `expected ${H_WIRE} ${WIRE_VERSION}, got ${quote(version)}` }
        : !/^[0-9]{1,4}$/.test(count)
          ? { problem: `expected ${H_BATCH} a count, got ${quote(count)}` }
          : decodeBatch(msg.data, this.#o.maxPayloadBytes);
    if ("problem" in calls) {
      limiter.warn("malformed batch on node %s: %s", node, calls.problem);
      this.#respond(msg, "?", { code: 500, message: `malformed batch on node "${node}": ${calls.problem}` }, false);
      return;
    }
    for (const call of calls) {
      if ("problem" in call) {
        limiter.warn("malformed call in a batch on node %s: %s", node, call.problem);
        this.#queueReply(to, { i: call.id, c: 500, m: `malformed call on node "${node}": ${call.problem}` });
        continue;
      }
      this.#run(call.service, call.request, (reply, retry) =>
        this.#queueReply(to, replyElement(call.id, call.service, reply, retry)),
      );
    }
  }

  /** Replies to batched calls leave together, once per tick, per reply subject. */
  #queueReply(to: string, element: Record<string, unknown>): void {
    const list = this.#replies.get(to);
    if (list === undefined) this.#replies.set(to, [element]);
    else list.push(element);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      void RESOLVED.then(this.#flushReplies);
    }
  }

  readonly #flushReplies = (): void => {
    this.#flushScheduled = false;
    const replies = this.#replies;
    this.#replies = new Map();
    for (const [to, elements] of replies) {
      for (let i = 0; i < elements.length; i += MAX_BATCH) this.#publishReplies(to, elements.slice(i, i + MAX_BATCH));
    }
  };

  #publishReplies(to: string, elements: Record<string, unknown>[]): void {
    const nc = this.#o.nc;
    const publish = (list: Record<string, unknown>[]): void => {
      nc.publish(to, JSON.stringify(list), { headers: batchHeaders(list.length) });
    };
    try {
      publish(elements);
    } catch {
      // Too large together (or the connection is gone): one by one, and a 500 for one that is too large alone.
      for (const element of elements) {
        try {
          publish([element]);
        } catch (thrown) {
          try {
            publish([{ i: element["i"], c: 500, m: `reply could not be sent: ${describeThrown(thrown, 200)}` }]);
          } catch {
            this.#o.limiter.warn("could not answer a batched call: %s", describeThrown(thrown, 200));
          }
        }
      }
    }
  }

  #respond(msg: Msg, service: string, reply: Reply, retry: boolean): void {
    const encoded = encodeReply(service, reply, this.#o.maxPayloadBytes);
    if (encoded.code === 0 && !retry) {
      try {
        msg.respond(encoded.body, { headers: this.#ok });
      } catch (thrown) {
        this.#o.limiter.warn("could not answer a call to %s: %s", service, describeThrown(thrown, 500));
      }
      return;
    }
    const h: MsgHdrs = headers();
    h.set(H_WIRE, WIRE_VERSION);
    h.set(H_CODE, String(encoded.code));
    h.set(H_NODE, this.#o.node);
    if (retry) h.set(H_RETRY, "1");
    if (encoded.code !== 0) {
      h.set(H_SERVICE_ERROR_CODE, String(encoded.code));
      h.set(H_SERVICE_ERROR, headerSafe(encoded.message));
    }
    try {
      msg.respond(encoded.body, { headers: h });
    } catch (thrown) {
      this.#o.limiter.warn("could not answer a call to %s: %s", service, (thrown as Error).message);
    }
  }
}

function noHeader(): string {
  return "";
}

/** A header value: one line, printable ASCII, at most 200 characters. */
function headerSafe(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 197)}...` : clean;
}
