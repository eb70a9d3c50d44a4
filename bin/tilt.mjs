#!/usr/bin/env node
// The `tilt` command: TypeScript sources run through tsx, so the installed bin needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
