import { describe, expect, it } from "vitest";
import {
  ClusterError,
  type ClusterErrorCode,
  DuplicateNodeError,
  InvalidArgumentError,
  WireEncodeError,
} from "./errors.ts";

// The catalogue: adding, renaming or removing a code is a change users see.
const CODES: Record<ClusterErrorCode, true> = {
  INVALID_ARGUMENT: true,
  CONNECT_FAILED: true,
  DUPLICATE_NODE: true,
  ALREADY_JOINED: true,
  ENCODE_FAILED: true,
};

describe("cluster errors", () => {
  it("pins the full list of codes", () => {
    expect(Object.keys(CODES)).toEqual([
      "INVALID_ARGUMENT",
      "CONNECT_FAILED",
      "DUPLICATE_NODE",
      "ALREADY_JOINED",
      "ENCODE_FAILED",
    ]);
  });

  it("gives each subclass its code, a name, and the node or service it is about", () => {
    const cause = new Error("econnrefused");
    const base = new ClusterError("CONNECT_FAILED", "no", { node: "n1", cause });
    expect(base).toMatchObject({ name: "ClusterError", code: "CONNECT_FAILED", node: "n1" });
    expect(base.cause).toBe(cause);
    expect(new InvalidArgumentError("bad")).toMatchObject({ name: "InvalidArgumentError", code: "INVALID_ARGUMENT" });
    const encode = new WireEncodeError("content.a", "a bigint has no JSON form", { service: "echo" });
    expect(encode).toMatchObject({
      name: "WireEncodeError",
      code: "ENCODE_FAILED",
      path: "content.a",
      service: "echo",
    });
    expect(encode.message).toBe('cannot encode content.a for service "echo": a bigint has no JSON form');
    const duplicate = new DuplicateNodeError("n1", "prod");
    expect(duplicate).toMatchObject({ name: "DuplicateNodeError", code: "DUPLICATE_NODE", node: "n1" });
    expect(duplicate.message).toMatch(/node name "n1" is already used by a live node of cluster namespace "prod"/);
    for (const e of [base, encode, duplicate]) expect(e).toBeInstanceOf(ClusterError);
  });
});
