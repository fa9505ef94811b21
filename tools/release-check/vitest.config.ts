import type { ViteUserConfig } from "vitest/config";
import { mkVitestConfig } from "../../vitest.shared.ts";

// Packing and `npm install` take seconds, not milliseconds.
const config: ViteUserConfig = mkVitestConfig({ testTimeout: 180_000, hookTimeout: 300_000 });
export default config;
