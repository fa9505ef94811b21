import { describe, expect, it } from "vitest";
import { Outbox, toWireError } from "./protocol.ts";

describe("Outbox", () => {
  it("posts everything added in one turn as one batch", async () => {
    const posted: unknown[][][] = [];
    const out = new Outbox(
      (batch) => posted.push(batch),
      () => undefined,
    );
    for (let i = 0; i < 100; i++) out.add([1, i]);
    await Promise.resolve();
    expect(posted).toHaveLength(1);
    expect(posted[0]).toHaveLength(100);
    out.add([1, 100]);
    await Promise.resolve();
    expect(posted).toHaveLength(2);
  });

  it("on a clone failure posts the others one by one and hands over the culprit", async () => {
    const posted: unknown[][][] = [];
    const refused: unknown[][] = [];
    const out = new Outbox(
      (batch) => {
        structuredClone(batch);
        posted.push(batch);
      },
      (message) => refused.push(message),
    );
    const bad = [1, 2, () => 3];
    out.add([1, 1]);
    out.add(bad);
    out.add([1, 3]);
    await Promise.resolve();
    expect(posted).toEqual([[[1, 1]], [[1, 3]]]);
    expect(refused).toEqual([bad]);
  });
});

describe("toWireError", () => {
  it("keeps name, message, stack and a string code", () => {
    const error = Object.assign(new TypeError("bad"), { code: "E_BAD" });
    expect(toWireError(error)).toMatchObject({ name: "TypeError", message: "bad", code: "E_BAD" });
    expect(toWireError("plain")).toEqual({ name: "Error", message: "plain" });
    const hostile = {
      toString() {
        throw new Error("no");
      },
    };
    expect(toWireError(hostile).name).toBe("Error");
    expect(typeof toWireError(hostile).message).toBe("string");
  });
});
