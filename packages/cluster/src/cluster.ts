// Cluster and joinCluster: connect, duplicate-name check, heartbeats, discovery, connection status, leave.
import { Kernel, type Event, type ServiceStatus } from "@mk/core";
import { createLogger, type Logger } from "@mk/logger";
import { connect, type Msg, type NatsConnection, nuid, type Subscription } from "@nats-io/transport-node";
import { type Announce, type AnnouncedService, decodeAnnounce, encodeAnnounce } from "./announce.ts";
import type { ClusterStateStore } from "./cluster-store.ts";
import { ClusterError, DuplicateNodeError, InvalidArgumentError } from "./errors.ts";
import { Inbound } from "./inbound.ts";
import { Leases } from "./leases.ts";
import { LogLimiter } from "./log-limiter.ts";
import { type JoinOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { Outbound } from "./outbound.ts";
import { olderThan } from "./versions.ts";
import { nodeOfHeartbeat, type Subjects, subjects } from "./subjects.ts";
import { ClusterView, type GoneReason } from "./view.ts";

/**
 * How a service serves on a node:
 * - `replica`: a service without state; every node that runs it takes calls, balanced.
 * - `active`: a service with state on the node that holds its lease (joined
 *   with a `store`): the one node that serves it.
 * - `standby`: the same service on the other nodes: registered, not started;
 *   one of them takes over when the owner's lease expires or is handed over.
 */
export type ClusterRole = "active" | "standby" | "replica";

/** One service on one node, in the cluster-wide view. */
export interface ClusterServiceInfo {
  name: string;
  node: string;
  version?: string;
  status: ServiceStatus;
  role: ClusterRole;
  /**
   * On a `standby` that will not take over: the version it needs, because
   * the service's state was saved by that newer version (or its owner runs
   * it). Hot-swap the service on that node to this version or newer
   * (`kernel.replace`) and it can take over again. Absent otherwise.
   */
  needsVersion?: string;
}

const joined = new WeakSet<Kernel>();

/** Heartbeats are small; a bigger one is dropped. */
const MAX_HEARTBEAT_BYTES = 1_048_576;

/**
 * This kernel's membership of a cluster. Made by {@link joinCluster}; ends
 * with {@link Cluster.leave}.
 */
export class Cluster {
  /** This node's name. */
  readonly node: string;
  /** The namespace its subjects live under (`mk.<namespace>.…`). */
  readonly namespace: string;
  readonly #kernel: Kernel;
  readonly #nc: NatsConnection;
  readonly #o: ResolvedOptions;
  readonly #logger: Logger;
  readonly #subjects: Subjects;
  readonly #id = nuid.next();
  readonly #view: ClusterView;
  readonly #outbound: Outbound;
  readonly #inbound: Inbound;
  readonly #fromWire = new WeakSet<Event>();
  /** Local services that take calls from other nodes. */
  readonly #running = new Set<string>();
  /** Local services in the middle of a hot swap (their calls are held by the bus, then served by the new version). */
  readonly #swapping = new Set<string>();
  readonly #subscriptions: Subscription[] = [];
  readonly #unsubscribe: (() => void)[] = [];
  #seq = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #leaving: Promise<void> | undefined;
  #announceQueued = false;
  #offline = false;
  #saidLeaving = false;
  #lastAnnounce = Number.NEGATIVE_INFINITY;
  /** Log lines about bad messages from the wire, rate-limited per kind. */
  readonly #limiter: LogLimiter;
  /** With a store: the leases of the services with state. */
  readonly #leases: Leases | undefined;
  readonly #store: ClusterStateStore | undefined;
  /** Services this cluster is stopping itself (lost lease, standby started by hand): their saves are dropped. */
  readonly #dropping = new Set<string>();
  /** Services being handed over by leave(): no new calls. */
  readonly #handingOver = new Set<string>();
  /** Services hot-swapped while on standby: the swap's save of the idle old version is dropped (the owner's state is newer). */
  readonly #standbySwaps = new Set<string>();
  /** Per service, the state version for which "no node can take over" was said. */
  readonly #toldNobody = new Map<string, string>();

  /** @internal Use {@link joinCluster}. */
  constructor(kernel: Kernel, nc: NatsConnection, options: ResolvedOptions, logger: Logger) {
    this.#kernel = kernel;
    this.#nc = nc;
    this.#o = options;
    this.#logger = logger;
    this.node = options.node;
    this.namespace = options.namespace;
    this.#subjects = subjects(options.namespace);
    const limiter = new LogLimiter(logger);
    this.#view = new ClusterView(options.deadAfterMs, {
      gone: (node, reason) => this.#gone(node, reason),
    });
    const maxPayloadBytes = Math.min(options.maxPayloadBytes, nc.info?.max_payload ?? options.maxPayloadBytes);
    this.#store = options.store;
    this.#leases =
      options.store === undefined
        ? undefined
        : new Leases({
            nc,
            namespace: options.namespace,
            node: options.node,
            id: this.#id,
            leaseMs: options.leaseMs,
            logger,
            hooks: {
              stored: async (name) => {
                const loaded = await (options.store as ClusterStateStore).inner.load(name);
                return { epoch: loaded?.epoch ?? 0, version: loaded?.version };
              },
              localVersion: (name) => this.#localVersion(name),
              refused: (name, saved) => this.#nobodyCan(name, saved),
              prepare: (name) => this.#prepare(name),
              acquired: (name, epoch, prepared) => this.#takeOver(name, epoch, prepared),
              lost: (name, epoch, why) => this.#lost(name, epoch, why),
              changed: () => this.#announceSoon(),
            },
          });
    this.#outbound = new Outbound({
      nc,
      subjects: this.#subjects,
      view: this.#view,
      maxPayloadBytes,
      limiter,
      holdable: (service) => this.#leases?.managed(service) === true || this.#view.stateful(service),
      servesHere: (service) => this.#takes(service),
      deliverHere: (event, push, timeoutMs) =>
        push ? kernel.push({ ...event, timeoutMs }) : kernel.send({ ...event, timeoutMs }),
    });
    this.#inbound = new Inbound({
      nc,
      kernel,
      node: options.node,
      subjects: this.#subjects,
      maxPayloadBytes,
      limiter,
      takes: (service) => this.#takes(service),
      fromWire: this.#fromWire,
    });
    this.#limiter = limiter;
  }

  /** True when this node serves `service` to callers (running, and its owner when it has state). */
  #takes(service: string): boolean {
    if (!this.#running.has(service) && !this.#swapping.has(service)) return false;
    if (this.#handingOver.has(service)) return false;
    const leases = this.#leases;
    return leases === undefined || !leases.managed(service) || leases.role(service) === "active";
  }

  /**
   * Loads the state of `name` ahead of taking its released lease (see
   * `LeaseHooks.prepare`): `false` when it is not idle (the takeover stops it first).
   */
  async #prepare(name: string): Promise<boolean> {
    if (!idle(this.#kernel.status(name))) return false;
    await this.#kernel.reloadState(name);
    return true;
  }

  /**
   * This node now holds the lease of `name`: load the state its previous
   * owner saved (or take the load `prepared` began), start it, serve.
   */
  async #takeOver(name: string, epoch: number, prepared: Promise<boolean> | undefined): Promise<void> {
    const kernel = this.#kernel;
    const leases = this.#leases as Leases;
    const started = performance.now();
    let ready = false;
    if (prepared !== undefined) {
      try {
        ready = await prepared;
      } catch (error) {
        // The steps below load again: a second failure gives the lease back.
        this.#logger.debug("state of %s not loaded ahead of its takeover: %s", name, (error as Error).message);
      }
    }
    if (!ready) {
      if (!idle(kernel.status(name))) await this.#stopDropping(name);
      await kernel.reloadState(name);
    }
    const loaded = performance.now();
    if (leases.epochOf(name) !== epoch) return;
    await kernel.start(name);
    if (leases.epochOf(name) !== epoch) {
      await this.#stopDropping(name);
      return;
    }
    this.#inbound.serve(name, true);
    this.#announce();
    this.#outbound.wake();
    this.#logger.info(
      "node %s serves %s (epoch %d): state loaded in %d ms (after the take), started in %d ms",
      this.node,
      name,
      epoch,
      Math.round(loaded - started),
      Math.round(performance.now() - loaded),
    );
  }

  #localVersion(name: string): string | undefined {
    for (const s of this.#kernel.services()) if (s.name === name) return s.version;
    return undefined;
  }

  /**
   * Says once (per state version) when no live node can take `name` over:
   * every node that has it is on standby with older code than the state's.
   * State safety beats availability: it stays unserved until one is hot-swapped.
   */
  #nobodyCan(name: string, saved: string): void {
    const local = this.#localVersion(name);
    if (this.#leases?.role(name) !== "standby" || !olderThan(local, saved)) return;
    const behind = [`${this.node} ${local}`];
    for (const { node, services } of this.#view.entries()) {
      const s = services.find((x) => x.name === name);
      if (s === undefined || s.role === undefined) continue;
      if (s.role === "active" || s.needsVersion === undefined) {
        this.#toldNobody.delete(name);
        return;
      }
      behind.push(`${node} ${s.version ?? "(no version)"}`);
    }
    if (this.#toldNobody.get(name) === saved) return;
    this.#toldNobody.set(name, saved);
    this.#logger.error(
      "no node can take over %s: the state was saved by %s and every node that has it runs an older version (%s); it stays unserved (its calls wait, then 408) until one is hot-swapped to %s or newer",
      name,
      saved,
      behind.join(", "),
      saved,
    );
  }

  /**
   * A hot swap of a service with state ended here. On its owner, save at once
   * under the new version (the swap saved the old version's export), so a
   * later failover needs the new code; the lease says the new version at once.
   * On a standby, check at once whether it can take over now.
   */
  #swapped(name: string, done: boolean): void {
    const leases = this.#leases;
    if (leases === undefined || !leases.managed(name)) return;
    if (done && leases.role(name) === "active") {
      // The kernel saves every running service with state here, not this one alone: a swap is rare.
      this.#kernel.checkpoint().catch((error: unknown) => {
        this.#logger.warn(
          "node %s could not save %s after its hot swap (the next save stores the new version): %s",
          this.node,
          name,
          (error as Error).message,
        );
      });
    }
    leases.versionChanged(name);
  }

  /** This node lost the lease of `name`: stop serving it now (its saves are dropped, the store has newer state). */
  #lost(name: string, epoch: number, why: string): void {
    this.#logger.warn("node %s stands down as owner of %s (epoch %d): %s", this.node, name, epoch, why);
    this.#inbound.serve(name, false);
    void this.#stopDropping(name);
  }

  /** Stops `name` here without saving (another node owns its state). */
  async #stopDropping(name: string): Promise<void> {
    this.#dropping.add(name);
    try {
      await this.#kernel.stop(name, { force: true });
    } catch (error) {
      this.#logger.debug("stopping %s: %s", name, (error as Error).message);
    } finally {
      this.#dropping.delete(name);
    }
  }

  /** Every service on every live node (this one included), by node then registration order. */
  services(): ClusterServiceInfo[] {
    const out: ClusterServiceInfo[] = [];
    for (const s of this.#localServices()) out.push(info(this.node, s));
    for (const { node, services } of this.#view.entries()) {
      for (const s of services) out.push(info(node, s));
    }
    return out;
  }

  /** The live nodes (this one first). */
  nodes(): string[] {
    return [this.node, ...this.#view.nodes()];
  }

  /**
   * Leaves the cluster: tells the others at once (they stop calling this
   * node), answers the calls it still receives, waits up to `leaveTimeoutMs`
   * for the calls it is serving, answers its own calls in flight on other
   * nodes 503, drains the connection and closes it. Idempotent.
   */
  leave(): Promise<void> {
    this.#leaving ??= this.#leave();
    return this.#leaving;
  }

  /** @internal The join sequence after the connection is made. */
  async start(): Promise<void> {
    const kernel = this.#kernel;
    for (const s of kernel.services()) if (s.status === "running") this.#running.add(s.name);
    this.#unsubscribe.push(
      kernel.on("status", (change) => {
        if (change.to === "running") this.#running.add(change.name);
        else this.#running.delete(change.name);
        this.#inbound.serve(change.name, this.#takes(change.name));
        this.#announceSoon();
        const leases = this.#leases;
        if (change.to === "running" && leases?.managed(change.name) === true && leases.role(change.name) !== "active") {
          this.#logger.info(
            "service %s is on standby on node %s (its owner is %s): stopped; it starts here if this node takes over",
            change.name,
            this.node,
            leases.holder(change.name) ?? "another node",
          );
          void this.#stopDropping(change.name);
        }
        if (change.to === "running") this.#outbound.wake();
      }),
      kernel.on("swap", (swap) => {
        if (swap.step === "begin") {
          this.#swapping.add(swap.name);
          const leases = this.#leases;
          if (leases?.managed(swap.name) === true && leases.role(swap.name) !== "active") {
            this.#standbySwaps.add(swap.name);
          }
        } else if (swap.step === "done" || swap.step === "rolled-back") {
          this.#swapping.delete(swap.name);
          this.#standbySwaps.delete(swap.name);
          this.#swapped(swap.name, swap.step === "done");
        } else return;
        this.#announceSoon();
      }),
    );
    const nc = this.#nc;
    this.#subscriptions.push(
      nc.subscribe(this.#subjects.who(this.node), {
        callback: (_error, msg) => {
          if (msg.reply) msg.respond(this.#id);
        },
      }),
      nc.subscribe(this.#subjects.heartbeats, {
        callback: (error, msg) => {
          if (error === null) this.#onHeartbeat(msg);
        },
      }),
      // Anyone can ask: answer at most one discover per tick and per 50 ms, so a flood of them is not amplified.
      nc.subscribe(this.#subjects.discover, {
        callback: () => {
          if (performance.now() - this.#lastAnnounce >= 50) this.#announceSoon();
        },
      }),
    );
    this.#outbound.start();
    this.#inbound.start();
    if (this.#leases !== undefined) await this.#startLeases(this.#leases, this.#store as ClusterStateStore);
    for (const name of this.#running) this.#inbound.serve(name, true);
    const hb = setInterval(() => this.#announce(), this.#o.heartbeatMs);
    // While this node's own connection is down it hears nobody: it keeps its view until it is back.
    const sweep = setInterval(
      () => {
        if (!this.#offline) this.#view.sweep(performance.now());
      },
      Math.max(10, this.#o.heartbeatMs / 2),
    );
    hb.unref();
    sweep.unref();
    this.#timers.push(hb, sweep);
    void this.#watchStatus();
    this.#announce();
    nc.publish(this.#subjects.discover);
    await nc.flush();
    // The others answer discover at once; give them one heartbeat to be heard.
    await new Promise((resolve) => setTimeout(resolve, Math.min(this.#o.heartbeatMs, 500)));
    kernel.setRemoteRouter({
      route: (event, options) => (this.#fromWire.has(event) ? undefined : this.#outbound.route(event, options)),
    });
    this.#logger.info(
      "node %s joined cluster %s with %d other node(s)",
      this.node,
      this.namespace,
      this.#view.nodes().length,
    );
  }

  async #startLeases(leases: Leases, store: ClusterStateStore): Promise<void> {
    await leases.open();
    store.attach(
      {
        epochOf: (name) => {
          if (!leases.managed(name)) return null;
          if (this.#dropping.has(name) || this.#standbySwaps.has(name)) return "drop";
          return leases.epochOf(name);
        },
        fenced: (name) => leases.lose(name, "the store refused its save (STATE_FENCED): a newer owner saved"),
      },
      (name) => leases.manage(name),
    );
    for (const name of store.loadedNames()) leases.manage(name);
  }

  #localServices(): AnnouncedService[] {
    const leases = this.#leases;
    return this.#kernel.services().map((s) => {
      const a: AnnouncedService = { name: s.name, status: s.status };
      const role = leases?.role(s.name);
      if (role !== undefined) a.role = role;
      if (s.version !== undefined) a.version = s.version;
      const needs = role === "standby" ? leases?.needsVersion(s.name, s.version) : undefined;
      if (needs !== undefined) a.needsVersion = needs;
      if (this.#swapping.has(s.name) || s.status === "stopping" || this.#handingOver.has(s.name)) a.draining = true;
      return a;
    });
  }

  #announce(leaving = false): void {
    // After the "leaving" heartbeat, none: a later one would bring this node back into the others' views.
    if (this.#nc.isClosed() || this.#saidLeaving) return;
    if (leaving) this.#saidLeaving = true;
    this.#lastAnnounce = performance.now();
    const announce: Announce = { node: this.node, id: this.#id, seq: ++this.#seq, services: this.#localServices() };
    if (leaving) announce.leaving = true;
    try {
      this.#nc.publish(this.#subjects.heartbeat(this.node), encodeAnnounce(announce));
    } catch (error) {
      this.#logger.debug("heartbeat not published: %s", (error as Error).message);
    }
  }

  /** Status changes come in bursts (startAll); one heartbeat per tick is enough. */
  #announceSoon(): void {
    if (this.#announceQueued || this.#leaving !== undefined) return;
    this.#announceQueued = true;
    queueMicrotask(() => {
      this.#announceQueued = false;
      this.#announce();
    });
  }

  #onHeartbeat(msg: Msg): void {
    const node = nodeOfHeartbeat(msg.subject);
    if (node === undefined) return;
    const announce = decodeAnnounce(node, msg.data, MAX_HEARTBEAT_BYTES);
    if ("problem" in announce) {
      this.#limiter.warn("dropped a heartbeat on %s: %s", msg.subject, announce.problem);
      return;
    }
    if (node === this.node) {
      if (announce.id !== this.#id) {
        this.#limiter.warn("another live node also calls itself %s (instance %s)", node, announce.id);
      }
      return;
    }
    this.#view.apply(announce, performance.now());
    const leases = this.#leases;
    if (leases !== undefined) {
      // An owner handing over (or leaving) says so at once: check its leases now rather than at the next poll.
      for (const s of announce.services) {
        if (
          leases.managed(s.name) &&
          leases.holder(s.name) === node &&
          (s.role !== "active" || announce.leaving === true)
        ) {
          leases.poke();
          break;
        }
      }
      for (const name of leases.names()) {
        const saved = leases.refusal(name);
        if (saved !== undefined) this.#nobodyCan(name, saved);
      }
    }
    this.#outbound.wake();
  }

  #gone(node: string, reason: GoneReason): void {
    const why =
      reason === "left"
        ? "the node left the cluster"
        : reason === "restarted"
          ? "the node restarted"
          : `the node vanished (no heartbeat for ${this.#o.deadAfterMs} ms)`;
    if (reason === "left") this.#logger.info("node %s left the view: %s", node, why);
    else this.#logger.warn("node %s left the view: %s", node, why);
    this.#outbound.failNode(node, why);
    this.#leases?.poke();
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === "disconnect") {
        this.#offline = true;
        this.#outbound.offline = true;
        this.#outbound.failAll("the NATS connection dropped");
        this.#logger.warn("node %s lost its NATS connection; calls to other nodes get 503 until it is back", this.node);
      } else if (status.type === "reconnect") {
        this.#offline = false;
        this.#outbound.offline = false;
        this.#view.refresh(performance.now());
        this.#announce();
        try {
          this.#nc.publish(this.#subjects.discover);
        } catch {
          // Closed meanwhile.
        }
        this.#logger.info("node %s reconnected to NATS", this.node);
      }
    }
  }

  /**
   * leave()'s handover, for each service this node owns: no new calls (the
   * callers hold them for the next owner), stop it (draining its calls and
   * saving under its epoch), then release the lease so a standby takes it at once.
   */
  async #handOver(leases: Leases): Promise<void> {
    leases.stopTaking();
    const names = leases.names().filter((name) => leases.role(name) === "active");
    if (names.length === 0) return;
    for (const name of names) {
      this.#handingOver.add(name);
      this.#inbound.serve(name, false);
    }
    this.#announce();
    // Each one on its own: a handover costs one save, not one per service this node owns.
    await Promise.all(names.map((name) => this.#handOverOne(leases, name)));
  }

  async #handOverOne(leases: Leases, name: string): Promise<void> {
    const started = performance.now();
    try {
      await this.#kernel.stop(name);
    } catch (error) {
      this.#logger.error(
        "node %s could not save %s to hand it over (%s); stopping it, its lease expires by itself",
        this.node,
        name,
        (error as Error).message,
      );
      leases.lose(name, "its state could not be saved for the handover");
      return;
    }
    const saved = performance.now();
    await leases.release(name);
    this.#announce();
    this.#logger.info(
      "node %s handed %s over in %d ms (stopped and saved in %d ms, lease released in %d ms)",
      this.node,
      name,
      Math.round(performance.now() - started),
      Math.round(saved - started),
      Math.round(performance.now() - saved),
    );
  }

  async #leave(): Promise<void> {
    const leases = this.#leases;
    if (leases !== undefined) await this.#handOver(leases);
    this.#announce(true);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await this.#inbound.stop(this.#o.leaveTimeoutMs);
    this.#kernel.setRemoteRouter(undefined);
    this.#outbound.close(`node "${this.node}" left the cluster`);
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#leases?.close();
    this.#store?.attach(undefined);
    try {
      await this.#nc.drain();
    } catch {
      // Already closed (the server is gone): nothing left to flush.
    }
    joined.delete(this.#kernel);
    this.#logger.info("node %s left cluster %s", this.node, this.namespace);
  }
}

/** Not starting, running nor stopping: its state can be loaded again. */
function idle(status: ServiceStatus): boolean {
  return status === "created" || status === "stopped" || status === "failed";
}

function info(node: string, s: AnnouncedService): ClusterServiceInfo {
  const out: ClusterServiceInfo = { name: s.name, node, status: s.status, role: s.role ?? "replica" };
  if (s.version !== undefined) out.version = s.version;
  if (s.needsVersion !== undefined) out.needsVersion = s.needsVersion;
  return out;
}

/**
 * Connects `kernel` to the cluster of kernels sharing `options.servers` and
 * `options.namespace`: `kernel.send`/`push` (and services' `ctx.send`/`push`)
 * then reach services on other nodes when they do not run here, and this
 * node serves its running services to the others.
 *
 * @example
 * const cluster = await joinCluster(kernel, { servers: "nats://127.0.0.1:4222", node: "node-1" });
 * await kernel.send({ to: "echo", from: "main", type: "say" }); // here if echo runs here, else on another node
 * await cluster.leave();
 *
 * @throws {InvalidArgumentError} for a kernel that is not a Kernel, or bad options.
 * @throws {ClusterError} `ALREADY_JOINED` when the kernel is in a cluster already.
 * @throws {ClusterError} `CONNECT_FAILED` when no server can be reached.
 * @throws {DuplicateNodeError} when a live node already uses `options.node`.
 */
export async function joinCluster(kernel: Kernel, options: JoinOptions): Promise<Cluster> {
  if (!(kernel instanceof Kernel)) {
    throw new InvalidArgumentError(`expected a Kernel, got ${kernel === null ? "null" : typeof kernel}`);
  }
  const resolved = resolveOptions(options);
  if (joined.has(kernel)) {
    throw new ClusterError("ALREADY_JOINED", `this kernel is already in a cluster: leave() it before joining again`, {
      node: resolved.node,
    });
  }
  const store = resolved.store;
  if (store !== undefined) {
    if (store.attached) {
      throw new InvalidArgumentError(`this store is already used by a cluster node: one ClusterStateStore per kernel`, {
        node: resolved.node,
      });
    }
    const stateful = new Set(store.loadedNames());
    const running = kernel
      .services()
      .find((s) => stateful.has(s.name) && s.status !== "created" && s.status !== "stopped" && s.status !== "failed");
    if (running !== undefined) {
      throw new InvalidArgumentError(
        `service "${running.name}" has state and is ${running.status} before the join: register services with state, join, then start; the cluster starts each on the node that holds its lease`,
        { node: resolved.node, service: running.name },
      );
    }
  }
  joined.add(kernel);
  let nc: NatsConnection | undefined;
  try {
    const logger = (options.logger ?? createLogger()).child("cluster");
    try {
      nc = await connect({
        servers: resolved.servers,
        name: `mk:${resolved.namespace}:${resolved.node}`,
        ...auth(options),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        pingInterval: 2000,
        maxPingOut: 2,
      });
    } catch (error) {
      throw new ClusterError(
        "CONNECT_FAILED",
        `node "${resolved.node}" could not connect to NATS at ${resolved.servers.join(", ")}: ${(error as Error).message}`,
        { node: resolved.node, cause: error },
      );
    }
    await refuseDuplicate(nc, subjects(resolved.namespace).who(resolved.node), resolved);
    const cluster = new Cluster(kernel, nc, resolved, logger);
    await cluster.start();
    return cluster;
  } catch (error) {
    joined.delete(kernel);
    if (nc !== undefined && !nc.isClosed()) await nc.close();
    throw error;
  }
}

function auth(options: JoinOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ["user", "pass", "token", "authenticator", "tls"] as const) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}

/** A live node answers on its `who` subject; nobody listening (no responders) means the name is free. */
async function refuseDuplicate(nc: NatsConnection, subject: string, o: ResolvedOptions): Promise<void> {
  try {
    await nc.request(subject, undefined, { timeout: o.deadAfterMs });
  } catch (error) {
    const noResponders =
      (error as { isNoResponders?: () => boolean }).isNoResponders?.() === true ||
      (error as Error).name === "NoResponders";
    if (noResponders) return;
    // Silence until the timeout: a node holds the name but cannot answer (busy or cut off); refuse to be safe.
  }
  throw new DuplicateNodeError(o.node, o.namespace);
}
