import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.ts';
import type { FieldCheck, LoadedModel } from './loaded-model.ts';
import type { RecordRequest } from './types.ts';
import { validateFields } from './validate-request.ts';

/** The reference: one loop for every candidate field (the code before the per-field readers). */
function reference(checks: FieldCheck[], req: RecordRequest): { columns: unknown[][]; error?: { field: string; message: string } } {
  const columns = checks.map(() => [] as unknown[]);
  const valid = (v: unknown, type: FieldCheck['type']) =>
    type === 'string' ? typeof v === 'string' : typeof v === 'number' ? Number.isFinite(v) : type === 'timestamp' && v instanceof Date && !Number.isNaN(v.getTime());
  for (let k = 0; k < checks.length; k++) {
    const c = checks[k];
    if (c.scope !== 'candidate') continue;
    for (let i = 0; i < req.candidates.length; i++) {
      const v = req.candidates[i][c.name];
      if (!valid(v, c.type)) {
        try {
          validateFields({ checks: [c], timestampField: 'ts' } as unknown as LoadedModel, { user: {}, context: {}, candidates: [{ [c.name]: v }] });
        } catch (err) {
          return { columns, error: { field: `candidates[${i}].${c.name}`, message: (err as Error).message.replace('candidates[0]', `candidates[${i}]`) } };
        }
      }
      columns[k][i] = v;
    }
  }
  return { columns };
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('validateFields', () => {
  it('reads and checks candidate fields as one loop over every field would, beyond the eight written-out readers too', () => {
    const rand = random(7);
    const types: FieldCheck['type'][] = ['number', 'string', 'timestamp'];
    const good = (t: FieldCheck['type'], i: number) => (t === 'number' ? i * 0.5 : t === 'string' ? `s${i}` : new Date(i * 1000));
    const bad: unknown[] = [undefined, null, NaN, Infinity, 'x', 3, {}, new Date(NaN)];
    for (let trial = 0; trial < 300; trial++) {
      const nFields = 1 + Math.floor(rand() * 12);
      const checks: FieldCheck[] = [{ name: 'user_id', type: 'number', scope: 'user' }];
      for (let f = 0; f < nFields; f++) checks.push({ name: `f${f}`, type: types[Math.floor(rand() * 3)], scope: 'candidate' });
      // Candidates of one shape and of several (names in another order, extra fields).
      const candidates: Array<Record<string, unknown>> = Array.from({ length: Math.floor(rand() * 20) }, (_, i) => {
        const c: Record<string, unknown> = rand() < 0.3 ? { extra: i } : {};
        const order = checks.filter((ch) => ch.scope === 'candidate');
        if (rand() < 0.3) order.reverse();
        for (const ch of order) c[ch.name] = good(ch.type, i);
        return c;
      });
      if (candidates.length && rand() < 0.5) {
        const f = 1 + Math.floor(rand() * nFields);
        candidates[Math.floor(rand() * candidates.length)][checks[f].name] = bad[Math.floor(rand() * bad.length)];
      }
      const req: RecordRequest = { user: { user_id: 1 }, context: {}, candidates };
      const want = reference(checks, req);
      const columns = checks.map(() => [undefined] as unknown[]);
      let got: InputError | undefined;
      try {
        validateFields({ checks, timestampField: 'ts' } as unknown as LoadedModel, req, columns);
      } catch (err) {
        got = err as InputError;
      }
      if (want.error) {
        expect(got).toBeInstanceOf(InputError);
        expect({ field: got!.field, message: got!.message }).toEqual(want.error);
        continue;
      }
      expect(got).toBeUndefined();
      for (let k = 1; k < checks.length; k++) expect(columns[k].slice(0, candidates.length)).toEqual(want.columns[k]);
    }
  });
});
