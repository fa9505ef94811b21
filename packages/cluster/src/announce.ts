// heartbeats (wire v1): what a node runs, its instance id and sequence; strict decoding.
import type { ServiceStatus } from "@mk/core";
import { isName } from "./names.ts";
import { MAX_VERSION_LENGTH, wireVersion } from "./versions.ts";
import type { WireProblem } from "./wire.ts";

/**
 * A heartbeat (wire format v1), published on `mk.<ns>.hb.<node>` every
 * `heartbeatMs`, at once when a local service changes status, and in answer
 * to `mk.<ns>.discover`. UTF-8 JSON:
 *
 * ```json
 * {"wire":1,"node":"node-1","id":"<instance id>","seq":42,"services":[{"name":"echo","version":"2","status":"running"}]}
 * ```
 *
 * A service may also carry `"role":"active"|"standby"` (absent: `replica`),
 * `"draining":true` (not taking calls: stopping or swapping) and, on a
 * standby that will not take over because its code is older than the state's,
 * `"needsVersion":"2.0.0"` (the version it needs; older nodes ignore the field).
 *
 * `id` is new at every join, so a node that restarts under the same name is a
 * new instance; `seq` grows by one per heartbeat of an instance. `"leaving":true`
 * says the node is leaving: drop it now.
 */
export interface Announce {
  node: string;
  id: string;
  seq: number;
  services: AnnouncedService[];
  leaving?: true;
}

/** How a service serves on a node (see `ClusterRole`); absent on the wire means `replica`. */
export type AnnouncedRole = "active" | "standby" | "replica";

export interface AnnouncedService {
  name: string;
  version?: string;
  status: ServiceStatus;
  /** Sent only when not `replica` (reserved for services with state: one `active` owner, `standby` elsewhere). */
  role?: AnnouncedRole;
  /** Not taking calls (stopping, or a hot swap in progress on this node). */
  draining?: true;
  /** A standby whose version is older than the state's (or its owner's): it will not take over; the version it needs. */
  needsVersion?: string;
}

const ROLES: ReadonlySet<string> = new Set(["active", "standby", "replica"]);
const STATUSES: ReadonlySet<string> = new Set(["created", "starting", "running", "stopping", "stopped", "failed"]);

/** Most services one heartbeat may list. */
export const MAX_ANNOUNCED = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeAnnounce(announce: Announce): Uint8Array {
  return encoder.encode(JSON.stringify({ wire: 1, ...announce }));
}

/** Decodes a heartbeat from `node`'s subject; a {@link WireProblem} says what was wrong. */
export function decodeAnnounce(node: string, body: Uint8Array, maxBytes: number): Announce | WireProblem {
  if (body.length > maxBytes) return { problem: `heartbeat of ${body.length} bytes exceeds the limit of ${maxBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return { problem: "heartbeat is not UTF-8 JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: "expected a JSON object" };
  const v = value as Record<string, unknown>;
  if (v.wire !== 1) return { problem: `expected wire 1, got ${JSON.stringify(v.wire) ?? "nothing"}` };
  if (v.node !== node) return { problem: `expected node ${JSON.stringify(node)} (the subject's), got another` };
  if (typeof v.id !== "string" || v.id.length === 0 || v.id.length > 64) return { problem: "expected an instance id" };
  if (typeof v.seq !== "number" || !Number.isSafeInteger(v.seq) || v.seq < 0) return { problem: "expected a seq" };
  if (!Array.isArray(v.services) || v.services.length > MAX_ANNOUNCED) {
    return { problem: `expected services: an array of at most ${MAX_ANNOUNCED}` };
  }
  const services: AnnouncedService[] = [];
  for (const item of v.services as unknown[]) {
    if (typeof item !== "object" || item === null) return { problem: "expected each service to be an object" };
    const { name, version, status, draining, role, needsVersion } = item as Record<string, unknown>;
    if (!isName(name)) return { problem: "expected each service name to follow the name rule" };
    if (typeof status !== "string" || !STATUSES.has(status)) return { problem: `service ${name}: unknown status` };
    if (version !== undefined && (typeof version !== "string" || version.length > MAX_VERSION_LENGTH)) {
      return { problem: `service ${name}: expected version to be a short string` };
    }
    if (needsVersion !== undefined && wireVersion(needsVersion) === undefined) {
      return { problem: `service ${name}: expected needsVersion to be a short string` };
    }
    if (role !== undefined && (typeof role !== "string" || !ROLES.has(role))) {
      return { problem: `service ${name}: expected role active, standby or replica` };
    }
    const service: AnnouncedService = { name, status: status as ServiceStatus };
    if (role !== undefined && role !== "replica") service.role = role as AnnouncedRole;
    if (version !== undefined) service.version = version;
    if (draining === true) service.draining = true;
    if (typeof needsVersion === "string") service.needsVersion = needsVersion;
    services.push(service);
  }
  const announce: Announce = { node, id: v.id, seq: v.seq, services };
  if (v.leaving === true) announce.leaving = true;
  return announce;
}
