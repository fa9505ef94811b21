import { mkVitestConfig } from "../../vitest.shared.ts";

// Packing and `npm install` take seconds, not milliseconds.
export default mkVitestConfig({ testTimeout: 180_000, hookTimeout: 300_000 });
