/**
 * Progress bars on stderr for the feature engine's steps (one bar per view build, label pass, join), shared by
 * `lockstep features` and `lockstep dataset`. Without a terminal, each finished step is one log line instead.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressListener } from '../engine/index.ts';

export interface EngineProgress {
  listener: ProgressListener | undefined;
  stop(): void;
}

export function engineProgress(enabled: boolean): EngineProgress {
  if (!enabled) return { listener: undefined, stop: () => {} };
  if (!process.stderr.isTTY) {
    return {
      listener: (e) => {
        if (e.done) console.error(`lockstep: ${label(e)} done in ${e.seconds?.toFixed(1)} s${e.rows === undefined ? '' : `, ${e.rows} rows`}`);
      },
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: '{name} [{bar}] {percentage}% | {duration_formatted} {note}',
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    listener: (e) => {
      const key = label(e);
      let bar = bars.get(key);
      if (!bar) bars.set(key, (bar = multi.create(100, 0, { name: key.padEnd(28), note: '' })));
      const pct = e.fraction < 0 ? 0 : Math.round(e.fraction * 100);
      bar.update(pct, { note: e.done ? `${e.rows === undefined ? '' : `${e.rows} rows`}` : e.fraction < 0 ? '…' : '' });
      if (e.done) bar.stop();
    },
    stop: () => multi.stop(),
  };
}

function label(e: ProgressEvent): string {
  switch (e.step) {
    case 'view':
      return `view ${e.name}`;
    case 'labels':
      return 'labels';
    case 'join':
      return 'point-in-time join';
    default:
      return `${e.step} ${e.name}`;
  }
}
