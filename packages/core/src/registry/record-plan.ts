import { MissingDependencyError } from "../errors.ts";
import type { ServiceRecord } from "./service-record.ts";
import { nodeLevels } from "./start-order.ts";

/**
 * The start plan of every registered service, as levels of records. Each
 * record's dependencies are resolved to records once here (`dependencyRecords`,
 * stamped with `version`), so neither the planner nor `startAll`'s
 * "are my dependencies running" checks look names up again.
 * @throws {MissingDependencyError} naming the service and the dependency it lacks.
 * @throws {DependencyCycleError} with the whole path.
 */
export function planRecords(
  records: readonly ServiceRecord[],
  lookup: (name: string) => ServiceRecord | undefined,
  version: number,
): ServiceRecord[][] {
  for (let i = 0; i < records.length; i++) (records[i] as ServiceRecord).planIndex = i;
  for (const record of records) {
    const names = record.dependencies;
    const resolved: ServiceRecord[] = [];
    for (const name of names) {
      const dependency = lookup(name);
      if (dependency === undefined) throw new MissingDependencyError(record.name, name);
      resolved.push(dependency);
    }
    record.dependencyRecords = resolved;
    record.resolvedAt = version;
  }
  return nodeLevels(records, dependencyRecordsOf, planIndexOf, nameOf);
}

const dependencyRecordsOf = (record: ServiceRecord): readonly ServiceRecord[] => record.dependencyRecords;
const planIndexOf = (record: ServiceRecord): number => record.planIndex;
const nameOf = (record: ServiceRecord): string => record.name;
