/**
 * The `lockstep` command line. Each command lives in `./commands/<name>.ts` and exports
 * `register(program)`; this file only wires them together.
 */
import { Command } from 'commander';
import { LockstepError } from '@lockstep/sdk';
import { commands } from './commands/index.ts';

const program = new Command('lockstep')
  .description('lockstep: real-time ad click prediction: features, training, bundles, online store, scoring')
  .showHelpAfterError();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Typed errors carry a code and an actionable message: print those without a stack trace.
  if (err instanceof LockstepError) {
    console.error(`lockstep: ${err.code}: ${err.message}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
