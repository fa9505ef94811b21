// Helpers shared by more than one benchmark (not a scenario: run.ts only runs *.bench.ts).

/** A state of roughly `bytes` of JSON, shaped like real service state (records, not one string). */
export function stateOf(bytes: number): unknown {
  const items: { id: number; name: string; tags: string[]; score: number; active: boolean }[] = [];
  let size = 12;
  for (let id = 0; size < bytes; id++) {
    const item = {
      id,
      name: `user-${id}-${"x".repeat(id % 17)}`,
      tags: ["a", "bb", "ccc"],
      score: id * 1.5,
      active: id % 2 === 0,
    };
    size += JSON.stringify(item).length + 1;
    items.push(item);
  }
  return { items };
}
