// Auth options go to the NATS client as given; namespaces keep two clusters
// on one server apart. In-process kernels (each with its own connection).
import { Kernel } from "@mk/core";
import { startNats } from "@mk/test-servers";
import { describe, expect, it } from "vitest";
import { joinCluster } from "../src/index.ts";
import { captureLogger, waitFor } from "./helpers.ts";

const log = captureLogger();

async function echoKernel(): Promise<Kernel> {
  const kernel = new Kernel({ logger: log.logger, checkpointIntervalMs: 0 });
  await kernel.register({ name: "echo", handle: (e) => ({ code: 0, message: "ok", data: e.content }) });
  await kernel.startAll();
  return kernel;
}

describe("security", () => {
  it("connects with the user and password given, and refuses wrong ones with CONNECT_FAILED", async () => {
    const nats = await startNats({ args: ["--user", "mk", "--pass", "s3cret"] });
    try {
      const kernel = await echoKernel();
      await expect(
        joinCluster(kernel, { servers: nats.url, node: "n1", user: "mk", pass: "wrong", logger: log.logger }),
      ).rejects.toMatchObject({ code: "CONNECT_FAILED", node: "n1" });
      const cluster = await joinCluster(kernel, {
        servers: nats.url,
        node: "n1",
        user: "mk",
        pass: "s3cret",
        logger: log.logger,
      });
      expect(cluster.nodes()).toEqual(["n1"]);
      await cluster.leave();
      await kernel.close({ stopAll: true });
    } finally {
      await nats.stop();
    }
  });

  it("keeps two namespaces on one server apart", async () => {
    const nats = await startNats();
    try {
      const owner = await echoKernel();
      const blue = await joinCluster(owner, {
        servers: nats.url,
        node: "same-name",
        namespace: "blue",
        logger: log.logger,
      });
      const caller = new Kernel({ logger: log.logger, checkpointIntervalMs: 0 });
      // The same node name is free in another namespace.
      const red = await joinCluster(caller, {
        servers: nats.url,
        node: "same-name",
        namespace: "red",
        logger: log.logger,
      });
      expect(red.services()).toEqual([]);
      expect((await caller.send({ to: "echo", from: "main", type: "t" })).code).toBe(404);
      await red.leave();
      const blueCaller = await joinCluster(caller, {
        servers: nats.url,
        node: "caller",
        namespace: "blue",
        logger: log.logger,
      });
      await waitFor("echo in the blue view", () => blueCaller.services().some((s) => s.name === "echo"));
      expect((await caller.send({ to: "echo", from: "main", type: "t", content: 1 })).data).toBe(1);
      await blueCaller.leave();
      await blue.leave();
      await caller.close();
      await owner.close({ stopAll: true });
    } finally {
      await nats.stop();
    }
  });
});
