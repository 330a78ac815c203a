/**
 * Shared by the tracking commands (`runs`, `models`, `ui`, `sync`): the `--tracking-uri` option, opening the
 * tracker it names, and plain-text tables.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { TrackingError } from '@lockstep/sdk';
import { openTracker, parseTrackingUri, type Tracker } from '../../tracking/index.ts';

export interface TrackingCliOptions {
  trackingUri?: string;
  json?: boolean;
}

/** Add `--tracking-uri` (a folder, local:<folder>, or http(s)://mlflow-server). */
export function withTrackingUri(command: Command): Command {
  return command.option(
    '--tracking-uri <uri>',
    'where runs and models are: a folder (default .lockstep/tracking, or $LOCKSTEP_TRACKING_URI) or an MLflow server http(s)://host:port',
  );
}

/**
 * The tracker the options name. A folder named explicitly (--tracking-uri, $LOCKSTEP_TRACKING_URI) must exist: a
 * mistyped path would otherwise become a new, empty store that answers every query with nothing. The default
 * folder is created as before (a fresh project's `lockstep ui` shows an empty store).
 */
export async function trackerFrom(options: TrackingCliOptions): Promise<Tracker> {
  const named = (options.trackingUri ?? process.env.LOCKSTEP_TRACKING_URI ?? '').trim();
  if (named) {
    const target = parseTrackingUri(named);
    if (target.kind === 'local' && !existsSync(target.root)) {
      throw new TrackingError('NOT_FOUND', `no tracking store at ${target.root}: nothing has been tracked there (check --tracking-uri)`);
    }
  }
  return openTracker(options.trackingUri);
}

/** Columns padded to their widest cell; the header underlined. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** JSON for scripts: NaN and ±Infinity as MLflow's strings. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2));
}

export const formatValue = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v));
