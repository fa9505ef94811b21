// The demo's services run by the mk command line: `pnpm build`, then
//   MK_STATE_KEY=<16, 24 or 32 characters> npx mk run
// and, in another terminal beside this file, `npx mk ps` or
//   npx mk swap echo ./dist/services/echo-v2.js --export EchoV2
import { defineConfig } from "@mk/cli";

export default defineConfig({
  services: [
    { name: "echo", module: "./dist/services/echo-v1.js", export: "EchoV1" },
    { name: "logger", module: "./dist/services/logger-service.js", export: "LoggerService" },
  ],
  // MK_DEMO_STORE lets the tests point it at a temporary folder.
  store: process.env["MK_DEMO_STORE"] ?? "file:./state",
  key: { env: "MK_STATE_KEY" },
});
