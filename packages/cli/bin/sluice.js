#!/usr/bin/env node
// The command's entry point. It exists before the build, so `npm ci` links it into
// node_modules/.bin on a fresh checkout even though dist/ is only built afterwards (prepare).
import '../dist/bin.js';
