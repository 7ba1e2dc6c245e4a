#!/usr/bin/env node
/**
 * @module msession/bin
 * The `php-session` executable (package.json "bin"): runs the CLI on the process's arguments.
 */
import { main } from './cli.ts';

void main();
