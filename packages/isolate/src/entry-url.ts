/**
 * The isolate's program. From the built package it sits beside this file;
 * when this file runs from its TypeScript source (the workspace's tests),
 * the isolate still runs the built JavaScript, since plain Node cannot run
 * TypeScript in a worker.
 */
export const ISOLATE_MAIN: URL = import.meta.url.endsWith(".ts")
  ? new URL("../dist/isolate-main.js", import.meta.url)
  : new URL("./isolate-main.js", import.meta.url);
