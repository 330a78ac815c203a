/**
 * `lockstep ui`: browse experiments, runs (curves, comparison, reports) and the model registry in a web page.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { startUi } from '../../ui/app.ts';
import { trackerFrom, withTrackingUri, type TrackingCliOptions } from './tracking-cli.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be an integer in 0..65535');
  return n;
}

export function register(program: Command): void {
  withTrackingUri(program.command('ui'))
    .description('serve the tracking UI: experiments and runs, metric curves, run comparison, the model registry')
    .option('--port <port>', 'port to listen on (0: any free port)', port, 5050)
    .option('--host <host>', 'interface to listen on (the UI has no auth: keep 127.0.0.1 unless something guards it)', '127.0.0.1')
    .action(async (opts: TrackingCliOptions & { port: number; host: string }) => {
      const tracker = await trackerFrom(opts);
      const ui = await startUi(tracker, { port: opts.port, host: opts.host });
      console.error(`lockstep ui: ${tracker.kind} store ${tracker.uri}, open ${ui.url}`);
      // The URL alone on stdout, so scripts can read it (useful with --port 0).
      console.log(ui.url);
      const stop = () => void ui.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
