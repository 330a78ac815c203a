import { tableFromArrays, tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { FeatureViewSpec } from '@lockstep/sdk';
import { snapshotView } from './feature-snapshot.ts';

const spec: FeatureViewSpec = {
  name: 'user_stats',
  entity: 'user',
  joinKeys: ['user_id'],
  features: [{ name: 'ctr_7d', dtype: 'float64', default: null }],
  ttlSeconds: 604_800,
  lagSeconds: 900,
  intervalSeconds: 3600,
  schemaHash: '0badcafe',
};

describe('snapshotView', () => {
  it('writes the batches as one Arrow IPC file with the view, schema hash and as-of in the schema', async () => {
    const table = tableFromArrays({ user_id: Int32Array.of(1, 2, 3), event_time: Float64Array.of(10, 20, 30), ctr_7d: Float64Array.of(0.1, 0.2, 0.3) });
    const asOf = new Date('2026-01-08T00:00:00Z');
    const out = await snapshotView(spec, asOf, { async *batches() { yield* table.batches; yield* table.batches; } });
    expect(out).toMatchObject({ view: 'user_stats', file: 'features/user_stats.arrow', rows: 6 });
    // The random-access file format starts and ends with the ARROW1 magic.
    expect(new TextDecoder().decode(out.bytes.subarray(0, 6))).toBe('ARROW1');
    const back = tableFromIPC(out.bytes);
    expect(back.numRows).toBe(6);
    expect(back.getChild('ctr_7d')!.toArray()).toEqual(Float64Array.of(0.1, 0.2, 0.3, 0.1, 0.2, 0.3));
    expect(Object.fromEntries(back.schema.metadata)).toEqual({ 'lockstep.view': 'user_stats', 'lockstep.schemaHash': '0badcafe', 'lockstep.asOf': asOf.toISOString() });
  });

  it('writes a readable file for a view with no rows yet', async () => {
    const out = await snapshotView(spec, new Date(0), { async *batches() {} });
    expect(out.rows).toBe(0);
    const back = tableFromIPC(out.bytes);
    expect(back.numRows).toBe(0);
    expect(back.schema.metadata.get('lockstep.view')).toBe('user_stats');
  });
});
