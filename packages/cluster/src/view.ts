// the other nodes from their heartbeats: round robin per service, drop after silence, restarts.
import type { Announce, AnnouncedService } from "./announce.ts";

/** One other node, as its last heartbeat described it. */
interface Peer {
  readonly node: string;
  readonly id: string;
  seq: number;
  /** `performance.now()` of its last heartbeat. */
  lastSeen: number;
  services: AnnouncedService[];
}

/** Why a node left the view. */
export type GoneReason = "silent" | "left" | "restarted";

export interface ViewEvents {
  /** `node` left the view; its calls in flight will get no reply. */
  gone(node: string, reason: GoneReason): void;
}

/**
 * The other nodes of the cluster and what they run, from their heartbeats.
 * A node silent for `deadAfterMs` is dropped (checked by {@link ClusterView.sweep});
 * a heartbeat from the same name with a new instance id replaces the old
 * instance (a restart: its calls in flight are lost).
 */
export class ClusterView {
  readonly #peers = new Map<string, Peer>();
  /** service -> nodes that run it and take calls, in a stable order; rebuilt lazily. */
  #index: Map<string, string[]> | undefined;
  /** service -> nodes that run it but are draining (used only when no other node can take the call). */
  #drainingIndex: Map<string, string[]> | undefined;
  /** Services some node ran since this node joined, with the last node seen running each: a call to one of these gets 503, not 404. */
  readonly #known = new Map<string, string>();
  readonly #turn = new Map<string, number>();
  /** Instances that said they left: a heartbeat of theirs still on the way must not bring them back. */
  readonly #left = new Set<string>();
  readonly #deadAfterMs: number;
  readonly #events: ViewEvents;

  constructor(deadAfterMs: number, events: ViewEvents) {
    this.#deadAfterMs = deadAfterMs;
    this.#events = events;
  }

  /** Applies a heartbeat. */
  apply(announce: Announce, now: number): void {
    if (this.#left.has(announce.id)) return;
    const existing = this.#peers.get(announce.node);
    if (existing !== undefined && existing.id !== announce.id) {
      this.#drop(existing.node, "restarted");
    } else if (existing !== undefined && announce.seq <= existing.seq && announce.leaving !== true) {
      existing.lastSeen = now;
      return;
    }
    if (announce.leaving === true) {
      this.#left.add(announce.id);
      // Bounded: the oldest ids go first (their heartbeats are long gone).
      if (this.#left.size > 1024) this.#left.delete(this.#left.values().next().value as string);
      if (this.#peers.has(announce.node)) this.#drop(announce.node, "left");
      for (const service of announce.services) {
        if (this.#known.get(service.name) === announce.node) this.#known.delete(service.name);
      }
      return;
    }
    const peer = existing !== undefined && existing.id === announce.id ? existing : undefined;
    if (peer === undefined) {
      this.#peers.set(announce.node, {
        node: announce.node,
        id: announce.id,
        seq: announce.seq,
        lastSeen: now,
        services: announce.services,
      });
    } else {
      peer.seq = announce.seq;
      peer.lastSeen = now;
      if (sameServices(peer.services, announce.services)) return;
      peer.services = announce.services;
    }
    for (const service of announce.services) {
      if (service.status === "running") this.#known.set(service.name, announce.node);
    }
    this.#index = undefined;
  }

  /** Drops the nodes silent for `deadAfterMs`. */
  sweep(now: number): void {
    for (const peer of Array.from(this.#peers.values())) {
      if (now - peer.lastSeen > this.#deadAfterMs) this.#drop(peer.node, "silent");
    }
  }

  /** After this node's own connection was down: every peer gets a fresh `deadAfterMs` to be heard again. */
  refresh(now: number): void {
    for (const peer of this.#peers.values()) peer.lastSeen = now;
  }

  /**
   * The next node to call for `service` (round robin over the nodes that run
   * it and take calls, then over draining ones), skipping `tried`.
   */
  pick(service: string, tried?: ReadonlySet<string>): string | undefined {
    if (this.#index === undefined) this.#rebuild();
    const nodes = (this.#index as Map<string, string[]>).get(service);
    const picked = nodes === undefined ? undefined : this.#next(service, nodes, tried);
    if (picked !== undefined) return picked;
    const draining = (this.#drainingIndex as Map<string, string[]>).get(service);
    return draining === undefined ? undefined : this.#next(service, draining, tried);
  }

  /** The last node seen running `service`, when one did since this node joined (and did not leave gracefully). */
  lastKnown(service: string): string | undefined {
    return this.#known.get(service);
  }

  /** True when a live node announces `service` as `active` or `standby` (a service with state, one owner). */
  stateful(service: string): boolean {
    for (const peer of this.#peers.values()) {
      for (const s of peer.services)
        if (s.name === service && s.role !== undefined && s.role !== "replica") return true;
    }
    return false;
  }

  has(node: string): boolean {
    return this.#peers.has(node);
  }

  nodes(): string[] {
    return Array.from(this.#peers.keys());
  }

  /** Every peer's services, by node. */
  entries(): { node: string; services: readonly AnnouncedService[] }[] {
    return Array.from(this.#peers.values(), (p) => ({ node: p.node, services: p.services }));
  }

  #next(service: string, nodes: readonly string[], tried: ReadonlySet<string> | undefined): string | undefined {
    const n = nodes.length;
    if (n === 0) return undefined;
    const start = this.#turn.get(service) ?? 0;
    for (let i = 0; i < n; i++) {
      const node = nodes[(start + i) % n] as string;
      if (tried !== undefined && tried.has(node)) continue;
      this.#turn.set(service, (start + i + 1) % n);
      return node;
    }
    return undefined;
  }

  #drop(node: string, reason: GoneReason): void {
    if (!this.#peers.delete(node)) return;
    this.#index = undefined;
    this.#events.gone(node, reason);
  }

  #rebuild(): void {
    const index = new Map<string, string[]>();
    const draining = new Map<string, string[]>();
    for (const peer of this.#peers.values()) {
      for (const service of peer.services) {
        if (service.status !== "running") continue;
        const target = service.draining === true ? draining : index;
        let nodes = target.get(service.name);
        if (nodes === undefined) target.set(service.name, (nodes = []));
        nodes.push(peer.node);
      }
    }
    this.#index = index;
    this.#drainingIndex = draining;
  }
}

function sameServices(a: readonly AnnouncedService[], b: readonly AnnouncedService[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as AnnouncedService;
    const y = b[i] as AnnouncedService;
    if (
      x.name !== y.name ||
      x.status !== y.status ||
      x.version !== y.version ||
      x.draining !== y.draining ||
      x.role !== y.role ||
      x.needsVersion !== y.needsVersion
    )
      return false;
  }
  return true;
}
