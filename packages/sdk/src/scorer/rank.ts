/**
 * Sponsored-products ranking: order candidates by expected value (pCTR × bid), drop those below the reserve price,
 * break ties deterministically (candidate id ascending, then request position), and price each winner with the
 * generalised second price.
 */
import { InputError } from '../errors.ts';
import type { Fields, RankedCandidate } from './types.ts';

export interface RankInput<A extends object> {
  candidates: readonly A[];
  scores: readonly number[];
  bidField: string;
  idField: string | undefined;
  reserve: number;
  limit: number;
}

/** Compares candidate ids: numbers numerically, strings by code unit, numbers before strings, absent ids last. */
function compareIds(a: unknown, b: unknown): number {
  const ta = typeof a === 'number' ? 0 : typeof a === 'string' ? 1 : 2;
  const tb = typeof b === 'number' ? 0 : typeof b === 'string' ? 1 : 2;
  if (ta !== tb) return ta - tb;
  if (ta === 0) return (a as number) - (b as number);
  if (ta === 1) return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  return 0;
}

/**
 * Refuses an auction that cannot be run as asked (InputError naming the option or the repeated candidate). Needs no
 * scores, so a scorer checks before it scores.
 */
export function checkRankInput<A extends object>(input: Omit<RankInput<A>, 'scores'>): void {
  const { candidates, bidField, idField, reserve, limit } = input;
  // A NaN reserve priced every winner NaN; a negative limit dropped winners from the end; a string passed through.
  if (typeof reserve !== 'number' || !(reserve >= 0) || reserve === Infinity) throw new InputError(`reserve must be a finite number ≥ 0, got ${String(reserve)}`, 'reserve');
  if (typeof limit !== 'number' || !(limit >= 0) || (!Number.isInteger(limit) && limit !== Infinity)) {
    throw new InputError(`limit must be an integer ≥ 0, got ${String(limit)}`, 'limit');
  }
  if (typeof bidField !== 'string' || bidField === '') throw new InputError(`bidField must be a field name, got ${String(bidField)}`, 'bidField');
  // One ad, one slot: the same id twice would win two positions at two prices.
  if (idField) {
    const seen = new Map<unknown, number>();
    for (let i = 0; i < candidates.length; i++) {
      const id = (candidates[i] as Fields)[idField];
      if (id === undefined || id === null) continue;
      const first = seen.get(id);
      if (first !== undefined) throw new InputError(`candidates[${i}].${idField} repeats candidates[${first}].${idField} (${String(id)}): an ad takes one slot`, `candidates[${i}].${idField}`);
      seen.set(id, i);
    }
  }
}

/** Ranks scored candidates (see the module); refuses what {@link checkRankInput} refuses. */
export function rankCandidates<A extends object>(input: RankInput<A>): { ranked: Array<RankedCandidate<A>>; belowReserve: number } {
  checkRankInput(input);
  return rankChecked(input);
}

/** {@link rankCandidates} for an input already checked. */
export function rankChecked<A extends object>(input: RankInput<A>): { ranked: Array<RankedCandidate<A>>; belowReserve: number } {
  const { candidates, scores, bidField, idField, reserve } = input;
  const eligible: Array<RankedCandidate<A>> = [];
  for (let i = 0; i < candidates.length; i++) {
    const bid = (candidates[i] as Fields)[bidField];
    const pctr = scores[i];
    if (typeof bid !== 'number' || !Number.isFinite(bid) || bid < 0 || !(pctr >= 0)) continue;
    const expectedValue = pctr * bid;
    if (expectedValue < reserve) continue;
    eligible.push({ index: i, candidate: candidates[i], pctr, bid, expectedValue, price: 0 });
  }
  eligible.sort(
    (a, b) =>
      b.expectedValue - a.expectedValue ||
      (idField ? compareIds((a.candidate as Fields)[idField], (b.candidate as Fields)[idField]) : 0) ||
      a.index - b.index,
  );
  for (let i = 0; i < eligible.length; i++) {
    const c = eligible[i];
    const next = i + 1 < eligible.length ? eligible[i + 1].expectedValue : 0;
    c.price = c.pctr > 0 ? Math.min(c.bid, Math.max(next, reserve) / c.pctr) : 0;
  }
  return { ranked: eligible.slice(0, input.limit), belowReserve: candidates.length - eligible.length };
}
