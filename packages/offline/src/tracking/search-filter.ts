/**
 * MLflow's run search syntax for the local store: the same filter and order-by strings work against a local store
 * and an MLflow server. Supported: `metrics.`, `params.`, `tags.` and `attributes.` identifiers (keys may be quoted
 * with backticks or double quotes), clauses joined by AND (MLflow has no OR), comparators `= != < <= > >=`, `LIKE`,
 * `ILIKE`, `IN (…)`, `NOT IN (…)`.
 */
import { TrackingError } from '@lockstep/sdk';
import type { RunRecord } from './types.ts';

type Entity = 'metric' | 'param' | 'tag' | 'attribute';
type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

interface Clause {
  entity: Entity;
  key: string;
  comparator: Comparator;
  value: string | number | Array<string | number>;
}

const ENTITY_PREFIXES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

/** Attribute aliases MLflow accepts, mapped to RunInfo fields. */
const ATTRIBUTES: Record<string, keyof RunRecord['info']> = {
  run_id: 'runId',
  run_name: 'runName',
  status: 'status',
  start_time: 'startTime',
  created: 'startTime',
  end_time: 'endTime',
  artifact_uri: 'artifactUri',
  user_id: 'userId',
  lifecycle_stage: 'lifecycleStage',
  experiment_id: 'experimentId',
};

function invalid(message: string): TrackingError {
  return new TrackingError('INVALID_PARAMETER_VALUE', message);
}

const TOKEN =
  /\s*(?:(`[^`]*`|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(<=|>=|!=|=|<|>)|([(),])|([A-Za-z_][\w\-/]*(?:\.(?:`[^`]*`|"[^"]*"|[\w\-/]+))*)|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))/y;

interface Token {
  kind: 'string' | 'quotedKey' | 'op' | 'punct' | 'word' | 'number';
  text: string;
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < input.length) {
    if (/^\s*$/.test(input.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(input);
    if (!m) throw invalid(`invalid search filter at "${input.slice(pos, pos + 30)}"`);
    pos = TOKEN.lastIndex;
    if (m[1] !== undefined) {
      const quote = m[1][0];
      tokens.push({ kind: quote === "'" ? 'string' : 'quotedKey', text: m[1].slice(1, -1).replace(/\\(.)/g, '$1') });
    } else if (m[2] !== undefined) tokens.push({ kind: 'op', text: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'punct', text: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: 'word', text: m[4] });
    else tokens.push({ kind: 'number', text: m[5] });
  }
  return tokens;
}

/** Split `metrics.loss`, ``params.`my key` ``, `tags."a b"`, or a bare attribute into entity and key. */
function parseIdentifier(text: string): { entity: Entity; key: string } {
  const dot = text.indexOf('.');
  const prefix = dot < 0 ? '' : text.slice(0, dot).toLowerCase();
  const entity = ENTITY_PREFIXES[prefix];
  if (entity === undefined) {
    if (ATTRIBUTES[text] !== undefined) return { entity: 'attribute', key: text };
    throw invalid(`invalid search identifier "${text}": use metrics.<key>, params.<key>, tags.<key> or attributes.<name>`);
  }
  let key = text.slice(dot + 1);
  if (/^[`"].*[`"]$/.test(key)) key = key.slice(1, -1);
  if (key === '') throw invalid(`missing key in search identifier "${text}"`);
  if (entity === 'attribute' && ATTRIBUTES[key] === undefined) {
    throw invalid(`unknown run attribute "${key}"; known: ${Object.keys(ATTRIBUTES).join(', ')}`);
  }
  return { entity, key };
}

/** Parse an MLflow filter string into clauses (all must hold). An empty filter has no clauses. */
export function parseFilter(filter: string | undefined): Clause[] {
  if (filter === undefined || filter.trim() === '') return [];
  const tokens = tokenize(filter);
  const clauses: Clause[] = [];
  let i = 0;
  const next = (): Token => {
    const t = tokens[i++];
    if (t === undefined) throw invalid(`incomplete search filter "${filter}"`);
    return t;
  };
  for (;;) {
    const id = next();
    if (id.kind !== 'word') throw invalid(`expected an identifier in search filter, got "${id.text}"`);
    const { entity, key } = parseIdentifier(id.text);
    let op = next();
    let comparator: Comparator;
    if (op.kind === 'op') comparator = op.text as Comparator;
    else if (op.kind === 'word' && /^(LIKE|ILIKE|IN)$/i.test(op.text)) comparator = op.text.toUpperCase() as Comparator;
    else if (op.kind === 'word' && /^NOT$/i.test(op.text) && /^IN$/i.test(tokens[i]?.text ?? '')) {
      i++;
      comparator = 'NOT IN';
    } else throw invalid(`expected a comparator after "${id.text}", got "${op.text}"`);
    let value: Clause['value'];
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (next().text !== '(') throw invalid(`expected "(" after ${comparator}`);
      const list: Array<string | number> = [];
      for (;;) {
        const v = next();
        list.push(v.kind === 'number' ? Number(v.text) : v.text);
        op = next();
        if (op.text === ')') break;
        if (op.text !== ',') throw invalid(`expected "," or ")" in ${comparator} list`);
      }
      value = list;
    } else {
      const v = next();
      if (v.kind !== 'number' && v.kind !== 'string' && v.kind !== 'quotedKey') {
        throw invalid(`expected a value after "${id.text} ${comparator}", got "${v.text}"`);
      }
      value = v.kind === 'number' ? Number(v.text) : v.text;
      if (entity === 'metric' && typeof value !== 'number') throw invalid(`metric "${key}" must be compared with a number`);
    }
    clauses.push({ entity, key, comparator, value });
    if (i >= tokens.length) break;
    const joiner = next();
    if (!/^AND$/i.test(joiner.text)) throw invalid(`expected AND between search clauses, got "${joiner.text}" (MLflow has no OR)`);
  }
  return clauses;
}

function likeToRegExp(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function compare(actual: string | number | undefined, comparator: Comparator, expected: Clause['value']): boolean {
  if (actual === undefined) return false;
  switch (comparator) {
    case 'IN':
      return (expected as Array<string | number>).some((v) => String(v) === String(actual));
    case 'NOT IN':
      return !(expected as Array<string | number>).some((v) => String(v) === String(actual));
    case 'LIKE':
      return likeToRegExp(String(expected), '').test(String(actual));
    case 'ILIKE':
      return likeToRegExp(String(expected), 'i').test(String(actual));
    default: {
      const numeric = typeof expected === 'number' && typeof actual === 'number';
      const a = numeric ? actual : String(actual);
      const e = numeric ? expected : String(expected);
      if (comparator === '=') return a === e;
      if (comparator === '!=') return a !== e;
      if (comparator === '<') return a < e;
      if (comparator === '<=') return a <= e;
      if (comparator === '>') return a > e;
      return a >= e;
    }
  }
}

function valueOf(run: RunRecord, entity: Entity, key: string): string | number | undefined {
  switch (entity) {
    case 'metric':
      return run.data.metrics[key]?.value;
    case 'param':
      return run.data.params[key];
    case 'tag':
      return run.data.tags[key];
    case 'attribute':
      return run.info[ATTRIBUTES[key]];
  }
}

/** Does `run` satisfy every clause? */
export function matchesFilter(run: RunRecord, clauses: Clause[]): boolean {
  return clauses.every((c) => compare(valueOf(run, c.entity, c.key), c.comparator, c.value));
}

interface OrderKey {
  entity: Entity;
  key: string;
  descending: boolean;
}

/** Parse `['metrics.auc DESC', 'start_time']`. @default order: start time, newest first. */
export function parseOrderBy(orderBy: string[] | undefined): OrderKey[] {
  const keys = (orderBy ?? []).map((clause) => {
    const m = /^\s*(.+?)(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    if (!m) throw invalid(`invalid order_by clause "${clause}"`);
    const { entity, key } = parseIdentifier(m[1]);
    return { entity, key, descending: (m[2] ?? 'ASC').toUpperCase() === 'DESC' };
  });
  // MLflow breaks ties by start time (newest first), then run id.
  keys.push({ entity: 'attribute', key: 'start_time', descending: true }, { entity: 'attribute', key: 'run_id', descending: false });
  return keys;
}

/** Sort runs in place by the order keys; missing values sort last whatever the direction, as in MLflow. */
export function sortRuns(runs: RunRecord[], keys: OrderKey[]): RunRecord[] {
  return runs.sort((a, b) => {
    for (const k of keys) {
      const va = valueOf(a, k.entity, k.key);
      const vb = valueOf(b, k.entity, k.key);
      const missingA = va === undefined || (typeof va === 'number' && Number.isNaN(va));
      const missingB = vb === undefined || (typeof vb === 'number' && Number.isNaN(vb));
      if (missingA || missingB) {
        if (missingA && missingB) continue;
        return missingA ? 1 : -1;
      }
      if (va === vb) continue;
      const less = typeof va === 'number' && typeof vb === 'number' ? va < vb : String(va) < String(vb);
      return (less ? -1 : 1) * (k.descending ? -1 : 1);
    }
    return 0;
  });
}

/** Opaque page tokens: the offset into the sorted result, base64'd like MLflow's. */
export function encodePageToken(offset: number): string {
  return btoa(JSON.stringify({ offset }));
}

export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const offset = (JSON.parse(atob(token)) as { offset?: unknown }).offset;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the typed error
  }
  throw invalid(`invalid page token "${token}"`);
}
