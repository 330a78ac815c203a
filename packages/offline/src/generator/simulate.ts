/**
 * The day-by-day simulation: page views → impressions (with the true click probability) → clicks.
 *
 * Each day is generated in time order (page views are drawn, then counting-sorted by second), so the
 * whole log comes out sorted by ts without a global sort. Each day draws from its own streams keyed by
 * (seed, day), so the output does not depend on chunk sizes or on how the caller batches the work.
 */
import { AliasTable, Rng } from './prng.ts';
import { CLICK_DELAY, CLICK_MODEL, RECOMMENDED_ATTRIBUTION_WINDOW_SECONDS, TRAFFIC, hourEffect } from './model.ts';
import { CATEGORY_COUNT as C, MAX_FAVOURED, STREAM, type World } from './world.ts';

const DAY_SECONDS = 86_400;
const DAY_MICROS = DAY_SECONDS * 1e6;

/** One day's impressions, column by column (codes for the string columns), plus the oracle p. */
export interface DayColumns {
  count: number;
  impressionId: Int32Array;
  tsMicros: Float64Array;
  userId: Int32Array;
  query: Uint16Array;
  queryCategory: Uint8Array;
  adId: Int32Array;
  advertiserId: Int32Array;
  adCategory: Uint8Array;
  position: Int32Array;
  device: Uint8Array;
  bid: Float64Array;
  pClick: Float64Array;
}

export function allocateDayColumns(capacity: number): DayColumns {
  return {
    count: 0,
    impressionId: new Int32Array(capacity),
    tsMicros: new Float64Array(capacity),
    userId: new Int32Array(capacity),
    query: new Uint16Array(capacity),
    queryCategory: new Uint8Array(capacity),
    adId: new Int32Array(capacity),
    advertiserId: new Int32Array(capacity),
    adCategory: new Uint8Array(capacity),
    position: new Int32Array(capacity),
    device: new Uint8Array(capacity),
    bid: new Float64Array(capacity),
    pClick: new Float64Array(capacity),
  };
}

/** Clicks collected over the whole run (a few percent of impressions), sorted by click_ts at the end. */
export class ClickLog {
  count = 0;
  /** Clicks that would have arrived after the end of the period: a log extract would not contain them. */
  truncated = 0;
  /** Logged clicks whose delay exceeds the recommended attribution window. */
  beyondWindow = 0;
  impressionId = new Int32Array(1 << 16);
  clickMicros = new Float64Array(1 << 16);

  push(impressionId: number, clickMicros: number): void {
    if (this.count === this.impressionId.length) {
      const id = new Int32Array(this.count * 2);
      id.set(this.impressionId);
      this.impressionId = id;
      const ts = new Float64Array(this.count * 2);
      ts.set(this.clickMicros);
      this.clickMicros = ts;
    }
    this.impressionId[this.count] = impressionId;
    this.clickMicros[this.count] = clickMicros;
    this.count++;
  }

  /** Sort by (click_ts, impression_id): deterministic even where click times tie. */
  sortByClickTime(): void {
    const n = this.count;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const ts = this.clickMicros;
    const id = this.impressionId;
    order.sort((a, b) => ts[a] - ts[b] || id[a] - id[b]);
    const sortedId = new Int32Array(n);
    const sortedTs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sortedId[i] = id[order[i]];
      sortedTs[i] = ts[order[i]];
    }
    this.impressionId = sortedId;
    this.clickMicros = sortedTs;
  }
}

/** How many impressions each day gets: weekly seasonality and slow growth, summing exactly to `total`. */
export function planDays(total: number, days: number, startMicros: number): number[] {
  const weights: number[] = [];
  for (let d = 0; d < days; d++) {
    const dow = new Date(startMicros / 1000 + d * DAY_MICROS / 1000).getUTCDay();
    const weekend = dow === 0 || dow === 6 ? TRAFFIC.weekendFactor : 1;
    weights.push(weekend * (1 + TRAFFIC.dailyGrowth * d));
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts: number[] = [];
  let cum = 0;
  let prev = 0;
  for (let d = 0; d < days; d++) {
    cum += weights[d];
    const upto = d === days - 1 ? total : Math.round((total * cum) / sum);
    counts.push(upto - prev);
    prev = upto;
  }
  return counts;
}

const hourSampler = new AliasTable(TRAFFIC.hourWeights);
const adsPerPageSampler = new AliasTable(TRAFFIC.adsPerPage);
const HOUR_EFFECT = Float64Array.from({ length: 24 }, (_, h) => hourEffect(h));
const POSITION = Float64Array.from(CLICK_MODEL.position);
const DEVICE_EFFECT = Float64Array.from(CLICK_MODEL.device);
const MAX_PAGE = TRAFFIC.adsPerPage.length;

/** Apply one day of drift: ad quality takes a random-walk step; a few users change a favoured category. */
function drift(world: World, rng: Rng): void {
  const { ads, users } = world;
  const step = CLICK_MODEL.adQualityDailyStepSigma;
  for (let i = 0; i < ads.count; i++) ads.quality[i] += step * rng.normal();
  for (let u = 0; u < users.count; u++) {
    if (rng.float() >= CLICK_MODEL.interestSwitchPerDay || users.favCount[u] === 0) continue;
    const slot = u * MAX_FAVOURED + rng.int(users.favCount[u]);
    const next = world.categorySampler.sample(rng);
    let taken = false;
    for (let i = 0; i < users.favCount[u]; i++) if (users.favCategory[u * MAX_FAVOURED + i] === next) taken = true;
    if (taken) continue;
    const s = users.favStrength[slot];
    users.affinity[u * C + users.favCategory[slot]] -= s;
    users.affinity[u * C + next] += s;
    users.favCategory[slot] = next;
  }
}

export interface DayContext {
  seed: number;
  day: number;
  dayStartMicros: number;
  endMicros: number;
  /** The impression_id of the day's first impression. */
  firstImpressionId: number;
}

/**
 * Simulate one day into `out` (which must hold `count` rows) and `clicks`. Days must be simulated in
 * order: drift mutates the world's latent state.
 */
export function simulateDay(world: World, ctx: DayContext, count: number, out: DayColumns, clicks: ClickLog): void {
  const rng = new Rng(ctx.seed, STREAM.day, ctx.day);
  const clickRng = new Rng(ctx.seed, STREAM.clicks, ctx.day);
  const driftRng = new Rng(ctx.seed, STREAM.drift, ctx.day);
  if (ctx.day > 0) drift(world, driftRng);
  const { users, ads, advertisers, queries } = world;

  // Advertisers adjust their bids day by day.
  const bidMultiplier = new Float64Array(advertisers.count);
  for (let a = 0; a < advertisers.count; a++) bidMultiplier[a] = Math.exp(TRAFFIC.dailyBidSigma * driftRng.normal());

  // 1. Page views: how many ads each shows and at which second of the day.
  const pageSecond = new Int32Array(count);
  const pageSize = new Uint8Array(count);
  let pages = 0;
  for (let left = count; left > 0; pages++) {
    const k = Math.min(left, 1 + adsPerPageSampler.sample(rng));
    pageSize[pages] = k;
    pageSecond[pages] = hourSampler.sample(rng) * 3600 + rng.int(3600);
    left -= k;
  }
  // 2. Counting sort by second (stable), so the day comes out in time order.
  const bucket = new Int32Array(DAY_SECONDS + 1);
  for (let p = 0; p < pages; p++) bucket[pageSecond[p] + 1]++;
  for (let s = 0; s < DAY_SECONDS; s++) bucket[s + 1] += bucket[s];
  const order = new Int32Array(pages);
  for (let p = 0; p < pages; p++) order[bucket[pageSecond[p]]++] = p;

  // 3. Each page view: user, device, query, the ads shown and their positions, then clicks.
  const slotAd = new Int32Array(MAX_PAGE);
  const slotBid = new Float64Array(MAX_PAGE);
  const slotScore = new Float64Array(MAX_PAGE);
  const model = CLICK_MODEL;
  let row = 0;
  for (let o = 0; o < pages; o++) {
    const p = order[o];
    const second = pageSecond[p];
    const hour = (second / 3600) | 0;
    const tsMicros = ctx.dayStartMicros + second * 1e6;

    let u = users.sampler.sample(rng);
    for (let tries = 0; users.signupMicros[u] > tsMicros; tries++) {
      u = tries < 32 ? users.sampler.sample(rng) : users.veteran;
    }
    const device = rng.float() < TRAFFIC.primaryDeviceShare ? users.device[u] : world.deviceSampler.sample(rng);
    const nFav = users.favCount[u];
    const qc =
      nFav > 0 && rng.float() < TRAFFIC.favouredQueryShare
        ? users.favCategory[u * MAX_FAVOURED + rng.int(nFav)]
        : world.categorySampler.sample(rng);
    const query = queries.byCategoryCodes[qc][queries.byCategory[qc].sample(rng)];

    const k = pageSize[p];
    const inCategory = ads.byCategory[qc];
    for (let j = 0; j < k; j++) {
      let a = 0;
      // Distinct ads on one page; after a few collisions (tiny catalogues) accept a repeat.
      for (let tries = 0; tries < 8; tries++) {
        a =
          inCategory !== null && rng.float() < TRAFFIC.adMatchesQueryShare
            ? ads.byCategoryIds[qc][inCategory.sample(rng)]
            : ads.all.sample(rng);
        let dup = false;
        for (let i = 0; i < j; i++) if (slotAd[i] === a) dup = true;
        if (!dup) break;
      }
      slotAd[j] = a;
      slotBid[j] = Math.round(ads.bid[a] * bidMultiplier[ads.advertiser[a]] * 100) / 100;
      slotScore[j] = slotBid[j] * Math.exp(TRAFFIC.rankNoiseSigma * rng.normal());
    }
    // Rank by score, highest first (insertion sort: k ≤ 8).
    for (let i = 1; i < k; i++) {
      const a = slotAd[i];
      const b = slotBid[i];
      const s = slotScore[i];
      let j = i - 1;
      while (j >= 0 && slotScore[j] < s) {
        slotAd[j + 1] = slotAd[j];
        slotBid[j + 1] = slotBid[j];
        slotScore[j + 1] = slotScore[j];
        j--;
      }
      slotAd[j + 1] = a;
      slotBid[j + 1] = b;
      slotScore[j + 1] = s;
    }

    const userPart = model.base + users.bias[u] + HOUR_EFFECT[hour] + DEVICE_EFFECT[device];
    for (let j = 0; j < k; j++) {
      const a = slotAd[j];
      const ac = ads.category[a];
      const logit =
        userPart +
        users.affinity[u * C + ac] +
        ads.quality[a] +
        ads.staticLogit[a] +
        POSITION[j] +
        (ac === qc ? model.queryMatch : 0);
      const pClick = 1 / (1 + Math.exp(-logit));
      const id = ctx.firstImpressionId + row;
      out.impressionId[row] = id;
      out.tsMicros[row] = tsMicros;
      out.userId[row] = u + 1;
      out.query[row] = query;
      out.queryCategory[row] = qc;
      out.adId[row] = a + 1;
      out.advertiserId[row] = ads.advertiser[a] + 1;
      out.adCategory[row] = ac;
      out.position[row] = j + 1;
      out.device[row] = device;
      out.bid[row] = slotBid[j];
      out.pClick[row] = pClick;
      row++;
      // Clicks draw from their own stream: one uniform per impression, then the delay.
      if (clickRng.float() < pClick) {
        const slow = clickRng.float() < CLICK_DELAY.slowShare;
        const delay = Math.max(
          CLICK_DELAY.minSeconds,
          slow
            ? CLICK_DELAY.slowMedianSeconds * Math.exp(CLICK_DELAY.slowSigma * clickRng.normal())
            : CLICK_DELAY.fastMedianSeconds * Math.exp(CLICK_DELAY.fastSigma * clickRng.normal()),
        );
        // Millisecond resolution for clicks (impressions are at whole seconds).
        const clickMicros = tsMicros + Math.round(delay * 1000) * 1000;
        if (clickMicros >= ctx.endMicros) clicks.truncated++;
        else {
          clicks.push(id, clickMicros);
          if (delay > RECOMMENDED_ATTRIBUTION_WINDOW_SECONDS) clicks.beyondWindow++;
        }
      }
    }
  }
  out.count = row;
}
