/**
 * Model references as MLflow users write them: `ads-ctr@champion` (an alias), `ads-ctr/3` (a version),
 * `ads-ctr/latest` or just `ads-ctr` (the highest version), each also with MLflow's `models:/` prefix.
 */
import { TrackingError } from '@lockstep/sdk';

export type ModelRef =
  | { name: string; alias: string }
  | { name: string; version: string }
  | { name: string; latest: true };

export function parseModelRef(ref: string): ModelRef {
  const text = ref.startsWith('models:/') ? ref.slice('models:/'.length) : ref;
  const fail = (why: string): never => {
    throw new TrackingError('INVALID_PARAMETER_VALUE', `invalid model reference "${ref}": ${why}; expected name@alias, name/<version> or name`);
  };
  if (text === '' || text.startsWith('/')) fail('no model name');
  const at = text.lastIndexOf('@');
  if (at >= 0) {
    const name = text.slice(0, at);
    const alias = text.slice(at + 1);
    if (name === '' || alias === '') fail('empty name or alias');
    return { name, alias };
  }
  const m = /^(.+)\/(\d+|latest)$/.exec(text);
  if (m) return m[2] === 'latest' ? { name: m[1], latest: true } : { name: m[1], version: String(Number(m[2])) };
  if (text.endsWith('/')) fail('empty version');
  return { name: text, latest: true };
}

/** `runs:/<run_id>/<path>` → its parts; undefined for any other source. */
export function parseRunsUri(source: string): { runId: string; path: string } | undefined {
  const m = /^runs:\/+([0-9a-zA-Z]+)(?:\/(.*))?$/.exec(source);
  return m ? { runId: m[1], path: (m[2] ?? '').replace(/\/+$/, '') } : undefined;
}
