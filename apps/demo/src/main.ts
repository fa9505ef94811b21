#!/usr/bin/env node
// Placeholder until the demo lands (issue 10).
process.stdout.write("mk demo: coming soon\n");
