export { startNats, natsServerBinary, type NatsServer, type NatsServerOptions } from "./nats.ts";
export { startPostgres, postgresBinaries, type PostgresServer, type PostgresServerOptions } from "./postgres.ts";
export { TestServerError, type TestServerErrorCode } from "./errors.ts";
export { freeLoopbackPort } from "./free-port.ts";
export type { ServerHandle } from "./server-handle.ts";
export { describeFaults, type FaultFixture, type FaultServer } from "./fault-suite.ts";
export { crypter, otherKey, rejection, uniqueName } from "./store-helpers.ts";
export { runReadmeExample } from "./readme-example.ts";
export { expectStoreErrorClasses, STORE_ERROR_CODES } from "./store-errors.ts";
