import { createServer } from "node:net";

/**
 * A loopback TCP port that was free a moment ago (the OS picked it). Another
 * process can take it before the server binds, so callers retry on "address in use".
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error(`expected a TCP address from the OS, got ${String(address)}`));
      });
    });
  });
}
