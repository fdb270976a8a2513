#!/usr/bin/env node
// Runs the compiled CLI (npm install / npm ci build it into dist/ through the prepare script).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv);
