/**
 * The `lockstep` command line. Each command lives in `./commands/<name>.ts` and exports
 * `register(program)`; this file only wires them together.
 */
import { Command } from 'commander';
import { LockstepError } from '@lockstep/sdk';
import { commands } from './commands/index.ts';
import { codeVersion } from '../export/code-version.ts';

const program = new Command('lockstep')
  .description('lockstep: real-time ad click prediction: features, training, bundles, online store, scoring')
  // One line pointing at the help, not the whole help (50 lines for `train`) after every mistyped option.
  .showHelpAfterError('(add --help for the options)');
// Not commander's .version(string): the commit costs up to three git calls, so it is computed only when asked for. It is
// the code version bundles record.
program.option('-V, --version', 'print the version (the package version and the git commit of the checkout, or the one a build was made from)').on('option:version', () => {
  console.log(codeVersion());
  process.exit(0);
});

for (const register of commands) register(program);

// A reader that goes away (`lockstep runs list | head`) is not a bug to print a stack trace for. Node ignores
// SIGPIPE, so the write fails with EPIPE instead: stop as a Unix tool killed by SIGPIPE does, quietly, with
// 128 + 13, so that `set -o pipefail` still sees that the output was cut short.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(141);
});

/** A failed system call (a path that cannot be written, a refused connection): its message names the call and the path. */
function isSystemError(err: unknown): err is Error & { code: string; syscall: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && typeof (err as { syscall?: unknown }).syscall === 'string';
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Typed errors carry a code and an actionable message, and so do the system's (ENOTDIR, EACCES, ENOSPC …: the
  // user's path or machine, not a bug): print those without a stack trace. Anything else is a bug: keep its stack.
  if (err instanceof LockstepError || isSystemError(err)) {
    console.error(`lockstep: ${err.code}: ${err.message}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
