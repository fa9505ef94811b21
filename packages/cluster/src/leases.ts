// leases in a JetStream KV bucket: one owner per stateful service, taken and renewed by compare-and-set, with a growing epoch.
import type { Logger } from "@mk/logger";
import { jetstream } from "@nats-io/jetstream";
import { type KV, type KvEntry, KvWatchInclude, Kvm } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { compareVersions } from "@mk/core";
import { ClusterError } from "./errors.ts";
import { olderThan, wireVersion } from "./versions.ts";

/**
 * The value under `lease/<service>` (UTF-8 JSON): the holder, its instance
 * id, the epoch and the version of the service it runs; `released: true`
 * when the holder handed it over (its state is saved, by that version).
 */
export interface LeaseValue {
  node: string;
  id: string;
  epoch: number;
  version?: string;
  released?: true;
}

export type LeaseRole = "active" | "standby";

/** One service's lease, as this node sees it. */
interface Lease {
  readonly name: string;
  role: LeaseRole;
  /** Our epoch while active; the last epoch seen while standby. */
  epoch: number;
  /** KV revision of the last value written or seen. */
  revision: number;
  /** Standby: `performance.now()` when the current revision was first seen. */
  seenAt: number;
  /** Active: `performance.now()` just before the last successful write was sent. */
  renewedAt: number;
  /** The holder's node name, when known (standby). */
  holder: string | undefined;
  /** Standby: the version of the service its holder wrote in the lease. */
  ownerVersion: string | undefined;
  /** Standby: the version the state was saved by, when it was newer than this node's at its last takeover check. */
  needs: string | undefined;
  /** The local version refused with, the lease revision and the time of that refusal (checked again at a change, or after a lease). */
  refusedLocal: string | undefined;
  refusedRevision: number;
  refusedAt: number;
  /** The owner version this node already said it is older than (one line per version). */
  toldOwner: string | undefined;
  /** Active: renew at the next step, not a third of a lease after the last renewal (the version changed). */
  renewNow: boolean;
  /** Standby: the newest entry the bucket watch pushed, not yet looked at (the next step uses it instead of a get). */
  pushed: KvEntry | undefined;
  /** The KV operation in progress (while `busy`). */
  work: Promise<void> | undefined;
  /** Being released: no renewal starts (it would race the release's compare-and-set). */
  releasing: boolean;
  /** A KV operation in progress. */
  busy: boolean;
  /** Poked while busy: check again as soon as the operation ends (a handover must not wait for the next tick). */
  again: boolean;
  /** Set when this node stops managing it (leave). */
  closed: boolean;
}

export interface LeaseHooks {
  /** What the shared store holds for `name`: its epoch (a new epoch must be above it) and the version that saved it. */
  stored(name: string): Promise<{ epoch: number; version?: string | undefined }>;
  /** The version of `name` registered on this node. */
  localVersion(name: string): string | undefined;
  /** This node refused to take `name` over: its version is older than `saved`, the state's. */
  refused(name: string, saved: string): void;
  /**
   * Loads the saved state of `name` now, while this node takes a released
   * lease: the state is final (its holder saved, then released, and a node
   * without the lease cannot save), so the load need not wait for the take.
   * `false` when it did not load (the service is not idle).
   */
  prepare(name: string): Promise<boolean>;
  /**
   * This node now holds `name` under `epoch`: reload its state (or use
   * `prepared`, the load {@link LeaseHooks.prepare} began) and start it; a
   * rejection gives the lease back.
   */
  acquired(name: string, epoch: number, prepared: Promise<boolean> | undefined): Promise<void>;
  /** This node no longer holds `name`: stop serving it now. */
  lost(name: string, epoch: number, why: string): void;
  /** A role changed (announce it). */
  changed(): void;
}

export interface LeasesOptions {
  nc: NatsConnection;
  namespace: string;
  node: string;
  id: string;
  leaseMs: number;
  logger: Logger;
  hooks: LeaseHooks;
}

/** An owner that has not renewed for this share of the lease stops serving (renewals are every third). */
const SAFE_SHARE = 0.6;

export function leaseBucket(namespace: string): string {
  return `mk-leases-${namespace}`;
}

const LEASE_PREFIX = "lease/";

export function leaseKey(service: string): string {
  return `${LEASE_PREFIX}${service}`;
}

/**
 * The leases of the stateful services this node registered. Safety does not
 * depend on clocks agreeing: an owner counts from just before it sent its
 * last successful renewal and stops serving after `SAFE_SHARE` of the lease;
 * a standby counts from when it first saw the current revision and takes
 * over only after a full lease without a change. Every take is a
 * compare-and-set on the revision it saw, so two nodes never both win.
 */
export class Leases {
  readonly #o: LeasesOptions;
  readonly #leases = new Map<string, Lease>();
  #kv: KV | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #watcher: QueuedIterator<KvEntry> | undefined;
  #closed = false;
  /** Set when this node leaves: it hands its leases over and must not take any (its own released ones included). */
  #taking = true;

  constructor(options: LeasesOptions) {
    this.#o = options;
  }

  async open(): Promise<void> {
    const kvm = new Kvm(jetstream(this.#o.nc, { timeout: Math.max(200, Math.floor(this.#o.leaseMs / 4)) }));
    try {
      this.#kv = await kvm.create(leaseBucket(this.#o.namespace), { history: 1 });
    } catch (error) {
      throw new ClusterError(
        "CONNECT_FAILED",
        `node "${this.#o.node}" could not open the lease bucket ${leaseBucket(this.#o.namespace)} (is JetStream enabled on the NATS server?): ${(error as Error).message}`,
        { node: this.#o.node, cause: error },
      );
    }
    const period = Math.max(10, Math.floor(this.#o.leaseMs / 10));
    this.#timer = setInterval(() => this.#tick(), period);
    this.#timer.unref();
    await this.#watchBucket(this.#kv);
  }

  /**
   * Every change of the bucket is pushed to this node as it is written, so a
   * standby sees a lease released (or taken) at once, and takes it with the
   * revision it was given, instead of finding out at its next poll with a get.
   * The polls go on beside it: they count the lease time, and cover a watch
   * that broke (the client recreates its consumer after a reconnect).
   */
  async #watchBucket(kv: KV): Promise<void> {
    let watcher: QueuedIterator<KvEntry>;
    try {
      watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    } catch (error) {
      this.#o.logger.warn(
        "node %s cannot watch the lease bucket (%s): standbys notice a handover at their next poll",
        this.#o.node,
        (error as Error).message,
      );
      return;
    }
    this.#watcher = watcher;
    void (async () => {
      for await (const entry of watcher) {
        if (this.#closed) break;
        if (!entry.key.startsWith(LEASE_PREFIX)) continue;
        const lease = this.#leases.get(entry.key.slice(LEASE_PREFIX.length));
        if (lease === undefined || lease.closed || lease.role !== "standby") continue;
        // Already seen (a poll got there first, or it is this node's own release).
        if (entry.revision <= lease.revision || (lease.pushed?.revision ?? 0) >= entry.revision) continue;
        lease.pushed = entry;
        if (lease.busy) lease.again = true;
        else this.#step(lease);
      }
    })().catch((error: unknown) => {
      this.#o.logger.debug("lease bucket watch ended: %s", (error as Error).message);
    });
  }

  /** Starts managing `name` as a standby (checked at once). Idempotent. */
  manage(name: string): void {
    if (this.#closed || this.#leases.has(name)) return;
    const lease: Lease = {
      name,
      role: "standby",
      epoch: 0,
      revision: -1,
      seenAt: performance.now(),
      renewedAt: 0,
      holder: undefined,
      ownerVersion: undefined,
      needs: undefined,
      refusedLocal: undefined,
      refusedRevision: -1,
      refusedAt: Number.NEGATIVE_INFINITY,
      toldOwner: undefined,
      renewNow: false,
      pushed: undefined,
      work: undefined,
      releasing: false,
      busy: false,
      again: false,
      closed: false,
    };
    this.#leases.set(name, lease);
    this.#step(lease);
  }

  managed(name: string): boolean {
    return this.#leases.has(name);
  }

  /** Our epoch when this node holds `name`, else `undefined`. */
  epochOf(name: string): number | undefined {
    const lease = this.#leases.get(name);
    return lease?.role === "active" ? lease.epoch : undefined;
  }

  role(name: string): LeaseRole | undefined {
    return this.#leases.get(name)?.role;
  }

  holder(name: string): string | undefined {
    const lease = this.#leases.get(name);
    if (lease === undefined) return undefined;
    return lease.role === "active" ? this.#o.node : lease.holder;
  }

  names(): string[] {
    return Array.from(this.#leases.keys());
  }

  /**
   * On a standby: the newest version known to be needed to take `name` over
   * (the state's, as of the last takeover check, or its owner's) when `local`
   * is older than it; `undefined` when this node can take it over.
   */
  needsVersion(name: string, local: string | undefined): string | undefined {
    const lease = this.#leases.get(name);
    if (lease === undefined || lease.role !== "standby") return undefined;
    let needed: string | undefined;
    for (const version of [lease.needs, lease.ownerVersion]) {
      if (version === undefined || !olderThan(local, version)) continue;
      if (needed === undefined || (compareVersions(version, needed) ?? 0) > 0) needed = version;
    }
    return needed;
  }

  /** On a standby that refused to take `name` over: the version its state was saved by. */
  refusal(name: string): string | undefined {
    const lease = this.#leases.get(name);
    return lease?.role === "standby" ? lease.needs : undefined;
  }

  /**
   * The version of `name` registered here changed (a hot swap): an owner
   * writes it into its lease at once; a standby checks at once whether it can
   * take over now.
   */
  versionChanged(name: string): void {
    const lease = this.#leases.get(name);
    if (lease === undefined) return;
    if (lease.role === "active") lease.renewNow = true;
    else lease.refusedAt = Number.NEGATIVE_INFINITY;
    if (lease.busy) lease.again = true;
    else this.#step(lease);
    this.#o.hooks.changed();
  }

  /** Checks every standby lease now (a peer left or vanished). */
  poke(): void {
    for (const lease of this.#leases.values()) {
      if (lease.role !== "standby") continue;
      if (lease.busy) lease.again = true;
      else this.#step(lease);
    }
  }

  /** The store refused a save as stale, or the service stopped: stand down now. */
  lose(name: string, why: string): void {
    const lease = this.#leases.get(name);
    if (lease === undefined || lease.role !== "active") return;
    this.#standDown(lease, why);
  }

  /**
   * Hands the lease of `name` over at once (the state is saved): writes it as
   * released, so a standby takes it without waiting for it to expire.
   */
  async release(name: string): Promise<void> {
    const lease = this.#leases.get(name);
    const kv = this.#kv;
    if (lease === undefined || lease.role !== "active" || kv === undefined) return;
    lease.releasing = true;
    try {
      // A renewal in flight and the release would compare-and-set the same revision: the release could
      // lose, and the standbys would wait out the whole lease (a handover of 3 s, not 100 ms). Let the
      // renewal land first; none starts meanwhile.
      if (lease.work !== undefined) await lease.work;
      if (lease.role !== "active") return;
      lease.role = "standby";
      lease.seenAt = performance.now();
      const value = this.#value(name, lease.epoch);
      value.released = true;
      try {
        lease.revision = await kv.update(leaseKey(name), JSON.stringify(value), lease.revision);
      } catch (error) {
        this.#o.logger.warn(
          "node %s could not release the lease of %s (%s); a standby takes it when it expires",
          this.#o.node,
          name,
          (error as Error).message,
        );
      }
    } finally {
      lease.releasing = false;
    }
    this.#o.hooks.changed();
  }

  /** This node is leaving: from now on it takes no lease (the active ones still renew until released). */
  stopTaking(): void {
    this.#taking = false;
  }

  /** Stops managing every lease (after `release` of the active ones). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#watcher?.stop();
    for (const lease of this.#leases.values()) lease.closed = true;
  }

  #tick(): void {
    const now = performance.now();
    for (const lease of this.#leases.values()) {
      // Checked on every tick, even while a renewal hangs: stop serving before the lease can be taken.
      if (lease.role === "active" && now - lease.renewedAt >= this.#o.leaseMs * SAFE_SHARE) {
        this.#standDown(lease, `could not renew it within ${Math.round(this.#o.leaseMs * SAFE_SHARE)} ms`);
        continue;
      }
      this.#step(lease);
    }
  }

  #standDown(lease: Lease, why: string): void {
    const epoch = lease.epoch;
    lease.role = "standby";
    lease.revision = -1;
    lease.pushed = undefined;
    lease.seenAt = performance.now();
    this.#o.hooks.lost(lease.name, epoch, why);
    this.#o.hooks.changed();
  }

  #step(lease: Lease): void {
    if (lease.busy || lease.closed || lease.releasing || this.#kv === undefined) return;
    if (lease.role === "standby" && !this.#taking) return;
    const now = performance.now();
    if (lease.role === "active" && !lease.renewNow && now - lease.renewedAt < this.#o.leaseMs / 3) return;
    lease.busy = true;
    const work = lease.role === "active" ? this.#renew(lease, this.#kv) : this.#watch(lease, this.#kv);
    lease.work = work
      .catch((error: unknown) => {
        this.#o.logger.debug("lease of %s: %s", lease.name, (error as Error).message);
      })
      .finally(() => {
        lease.busy = false;
        lease.work = undefined;
        if (lease.again) {
          lease.again = false;
          this.#step(lease);
        }
      });
  }

  /** The lease value this node writes for `name`: itself as the holder, with the version it runs. */
  #value(name: string, epoch: number): LeaseValue {
    const value: LeaseValue = { node: this.#o.node, id: this.#o.id, epoch };
    const version = this.#o.hooks.localVersion(name);
    if (version !== undefined) value.version = version;
    return value;
  }

  async #renew(lease: Lease, kv: KV): Promise<void> {
    const sent = performance.now();
    const epoch = lease.epoch;
    lease.renewNow = false;
    const value = this.#value(lease.name, epoch);
    try {
      const revision = await kv.update(leaseKey(lease.name), JSON.stringify(value), lease.revision);
      if (lease.role === "active" && lease.epoch === epoch) {
        lease.revision = revision;
        lease.renewedAt = sent;
      }
    } catch (error) {
      if (lease.role === "active" && lease.epoch === epoch && isWrongRevision(error)) {
        this.#standDown(lease, "another node holds it now");
      } else {
        throw error;
      }
    }
  }

  async #watch(lease: Lease, kv: KV): Promise<void> {
    const pushed = lease.pushed;
    lease.pushed = undefined;
    const entry = pushed ?? (await kv.get(leaseKey(lease.name)));
    if (lease.role !== "standby" || lease.closed) return;
    const value = entry === null ? undefined : parse(entry);
    const now = performance.now();
    if (entry !== null && value !== undefined && value.released !== true) {
      if (entry.revision !== lease.revision) {
        lease.revision = entry.revision;
        lease.seenAt = now;
        lease.epoch = value.epoch;
        this.#sawOwner(lease, value);
        return;
      }
      if (now - lease.seenAt < this.#o.leaseMs) return;
    }
    // Refused with this code and this lease revision: check again when either changes, else once a lease.
    if (
      lease.needs !== undefined &&
      (entry?.revision ?? 0) === lease.refusedRevision &&
      this.#o.hooks.localVersion(lease.name) === lease.refusedLocal &&
      now - lease.refusedAt < this.#o.leaseMs
    ) {
      return;
    }
    await this.#take(lease, kv, entry, value);
  }

  /** A standby saw a new lease value: who holds it, and the version it runs (said once when newer than this node's). */
  #sawOwner(lease: Lease, value: LeaseValue): void {
    let changed = lease.holder !== value.node || lease.ownerVersion !== value.version;
    lease.holder = value.node;
    lease.ownerVersion = value.version;
    const local = this.#o.hooks.localVersion(lease.name);
    if (value.version !== undefined && olderThan(local, value.version) && lease.toldOwner !== value.version) {
      lease.toldOwner = value.version;
      changed = true;
      this.#o.logger.warn(
        "node %s has %s %s on standby while its owner %s runs %s: hot-swap it here too, or this node will not take over once %s has saved the state",
        this.#o.node,
        lease.name,
        local,
        value.node,
        value.version,
        value.version,
      );
    }
    if (changed) this.#o.hooks.changed();
  }

  /** Older code than the state's: do not take the lease (one line per versions pair); keep watching. */
  #refuse(lease: Lease, entry: KvEntry | null, local: string | undefined, saved: string): void {
    const first = lease.needs !== saved || lease.refusedLocal !== local;
    lease.needs = saved;
    lease.refusedLocal = local;
    lease.refusedRevision = entry?.revision ?? 0;
    lease.refusedAt = performance.now();
    if (!first) return;
    this.#o.logger.warn(
      "node %s will not take over %s: it has version %s, the state was saved by %s; hot-swap it to %s or newer",
      this.#o.node,
      lease.name,
      local,
      saved,
      saved,
    );
    this.#o.hooks.changed();
    this.#o.hooks.refused(lease.name, saved);
  }

  async #take(lease: Lease, kv: KV, entry: KvEntry | null, value: LeaseValue | undefined): Promise<void> {
    if (!this.#taking) return;
    // A released lease's epoch is the last one saved under and its version the one that saved (the releaser
    // saved, then released): no need to ask the store.
    const stored =
      value?.released === true ? { epoch: 0, version: value.version } : await this.#o.hooks.stored(lease.name);
    if (lease.closed || lease.role !== "standby") return;
    const local = this.#o.hooks.localVersion(lease.name);
    if (stored.version !== undefined && olderThan(local, stored.version)) {
      this.#refuse(lease, entry, local, stored.version);
      return;
    }
    if (lease.needs !== undefined) {
      this.#o.logger.info(
        "node %s can take over %s again: it has version %s, the state was saved by %s",
        this.#o.node,
        lease.name,
        local,
        stored.version ?? "no version",
      );
      lease.needs = undefined;
      lease.refusedLocal = undefined;
      this.#o.hooks.changed();
    }
    const epoch = Math.max(value?.epoch ?? 0, stored.epoch) + 1;
    const next = this.#value(lease.name, epoch);
    // Released: the load of the state overlaps the compare-and-set (a handover is one round trip shorter).
    // If it is not taken after all, the load imported into an instance that does not run (the next takeover
    // loads again). Handled now: a failure before the take ends must not be an unhandled rejection.
    const prepared = value?.released === true ? this.#o.hooks.prepare(lease.name) : undefined;
    void prepared?.catch(() => undefined);
    const sent = performance.now();
    let revision: number;
    try {
      revision =
        entry === null
          ? await kv.create(leaseKey(lease.name), JSON.stringify(next))
          : await kv.update(leaseKey(lease.name), JSON.stringify(next), entry.revision);
    } catch (error) {
      if (isWrongRevision(error)) {
        lease.revision = -1;
        return;
      }
      throw error;
    }
    if (lease.closed || lease.role !== "standby" || !this.#taking) {
      // Won while leaving: give it straight back.
      const value = this.#value(lease.name, epoch);
      value.released = true;
      await kv.update(leaseKey(lease.name), JSON.stringify(value), revision).catch(() => undefined);
      return;
    }
    lease.role = "active";
    lease.pushed = undefined;
    lease.epoch = epoch;
    lease.revision = revision;
    lease.renewedAt = sent;
    lease.holder = this.#o.node;
    this.#o.logger.info("node %s holds the lease of %s, epoch %d", this.#o.node, lease.name, epoch);
    this.#o.hooks.changed();
    // Renewals go on while the service loads and starts (this step is done).
    void this.#o.hooks.acquired(lease.name, epoch, prepared).catch(async (error: unknown) => {
      this.#o.logger.error(
        "node %s could not start %s after taking its lease: %s; giving the lease back",
        this.#o.node,
        lease.name,
        (error as Error).message,
      );
      if (lease.role === "active" && lease.epoch === epoch) await this.release(lease.name);
    });
  }
}

function parse(entry: KvEntry): LeaseValue | undefined {
  if (entry.operation !== "PUT") return undefined;
  try {
    const v = entry.json<LeaseValue>();
    if (typeof v !== "object" || v === null || typeof v.epoch !== "number" || !Number.isSafeInteger(v.epoch)) {
      return undefined;
    }
    // A version that is not a short string is unknown (it cannot make a node refuse).
    const version = wireVersion(v.version);
    if (version === undefined) delete v.version;
    else v.version = version;
    return v;
  } catch {
    return undefined;
  }
}

/** The KV refused a compare-and-set (someone wrote since), or a create found the key taken. */
function isWrongRevision(error: unknown): boolean {
  const e = error as { message?: unknown; code?: unknown } | null;
  if (e === null || typeof e !== "object") return false;
  if (e.code === 10071) return true;
  return typeof e.message === "string" && /wrong last sequence|key exists/i.test(e.message);
}
