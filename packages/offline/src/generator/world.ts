/**
 * The dimension tables and the latent parameters behind them: users (device, activity, signup,
 * click propensity, category affinities), advertisers (tier, name, brand effect) and ads (category,
 * price, bid, popularity, latent quality). Only the observable columns are ever written to data/;
 * the latent ones exist solely to compute the true click probability.
 */
import { AliasTable, Rng } from './prng.ts';
import {
  CATEGORIES,
  DEVICE_MIX,
  NAME_NOUNS,
  NAME_ROOTS,
  NAME_SUFFIXES,
  QUERY_PREFIXES,
  QUERY_SUFFIXES,
  TIER_ADS_WEIGHT,
  TIER_SHARE,
} from './catalog.ts';
import { CLICK_MODEL, TRAFFIC } from './model.ts';

/** Stream ids: each table draws from its own stream so that sizing one table leaves the others unchanged. */
export const STREAM = { users: 1, advertisers: 2, ads: 3, day: 10, clicks: 11, drift: 12 } as const;

const C = CATEGORIES.length;
const MAX_FAVOURED = 3;

export interface WorldOptions {
  seed: number;
  users: number;
  ads: number;
  advertisers: number;
  /** Epoch microseconds of the first instant and of the end (exclusive) of the simulated period. */
  startMicros: number;
  endMicros: number;
}

export interface Users {
  count: number;
  device: Uint8Array;
  /** Relative activity, mean 1: the weight of the user in page-view sampling. */
  activity: Float64Array;
  signupMicros: Float64Array;
  /** Latent: per-user click propensity. */
  bias: Float32Array;
  /** Latent: user × category affinity, row-major [user * C + category]. */
  affinity: Float32Array;
  /** Latent: favoured categories ([user * 3 + i], i < favCount) and the size of each one's affinity boost. */
  favCount: Uint8Array;
  favCategory: Uint8Array;
  favStrength: Float32Array;
  sampler: AliasTable;
  /** A user who signed up before the period: the fallback when sampling keeps hitting future sign-ups. */
  veteran: number;
}

export interface Advertisers {
  count: number;
  tier: Uint8Array;
  names: string[];
  /** Latent: brand effect on the logit. */
  effect: Float32Array;
}

export interface Ads {
  count: number;
  advertiser: Int32Array;
  category: Uint8Array;
  price: Float64Array;
  bid: Float64Array;
  /** Latent quality, drifting day by day (see simulate.ts). */
  quality: Float64Array;
  /** Observable-but-fixed logit part of each ad: advertiser effect + price effect. */
  staticLogit: Float64Array;
  /** Ads by popularity, per category (null when a category has no ads) and over all ads. */
  byCategory: (AliasTable | null)[];
  byCategoryIds: Int32Array[];
  all: AliasTable;
}

export interface Queries {
  labels: string[];
  category: Uint8Array;
  /** Per category: a sampler over the query codes with that intent. */
  byCategory: AliasTable[];
  byCategoryCodes: Int32Array[];
}

export interface World {
  users: Users;
  advertisers: Advertisers;
  ads: Ads;
  queries: Queries;
  categorySampler: AliasTable;
  deviceSampler: AliasTable;
}

const categoryPopularity = CATEGORIES.map((c) => c.popularity);

export function buildQueries(): Queries {
  const labels: string[] = [];
  const category: number[] = [];
  const byCategory: AliasTable[] = [];
  const byCategoryCodes: Int32Array[] = [];
  for (let c = 0; c < C; c++) {
    const codes: number[] = [];
    const weights: number[] = [];
    CATEGORIES[c].queries.forEach((base, rank) => {
      const baseWeight = 1 / Math.pow(rank + 1, TRAFFIC.queryZipf);
      for (const pre of QUERY_PREFIXES) {
        for (const suf of QUERY_SUFFIXES) {
          codes.push(labels.length);
          weights.push(baseWeight * pre.weight * suf.weight);
          labels.push(`${pre.text}${base}${suf.text}`);
          category.push(c);
        }
      }
    });
    byCategory.push(new AliasTable(weights));
    byCategoryCodes.push(Int32Array.from(codes));
  }
  return { labels, category: Uint8Array.from(category), byCategory, byCategoryCodes };
}

function buildUsers(o: WorldOptions, categorySampler: AliasTable, deviceSampler: AliasTable): Users {
  const rng = new Rng(o.seed, STREAM.users);
  const n = o.users;
  const device = new Uint8Array(n);
  const activity = new Float64Array(n);
  const signupMicros = new Float64Array(n);
  const bias = new Float32Array(n);
  const affinity = new Float32Array(n * C);
  const favCount = new Uint8Array(n);
  const favCategory = new Uint8Array(n * MAX_FAVOURED);
  const favStrength = new Float32Array(n * MAX_FAVOURED);
  const favCountSampler = new AliasTable(CLICK_MODEL.favouredCountWeights);
  const periodMicros = o.endMicros - o.startMicros;
  const historyMicros = TRAFFIC.signupHistoryDays * 86_400e6;
  let activitySum = 0;
  for (let u = 0; u < n; u++) {
    device[u] = deviceSampler.sample(rng);
    activity[u] = rng.logNormal(0, TRAFFIC.activitySigma);
    activitySum += activity[u];
    // User 0 always predates the period, so there is always someone to show ads to.
    const isNew = u > 0 && rng.float() < TRAFFIC.newUserShare;
    const offset = isNew ? rng.float() * periodMicros : -rng.float() * historyMicros;
    signupMicros[u] = o.startMicros + Math.floor(offset / 1e6) * 1e6;
    bias[u] = CLICK_MODEL.userBiasSigma * rng.normal();
    for (let c = 0; c < C; c++) affinity[u * C + c] = CLICK_MODEL.affinityNoiseSigma * rng.normal();
    const k = 1 + favCountSampler.sample(rng);
    let got = 0;
    for (let tries = 0; got < k && tries < 20; tries++) {
      const c = categorySampler.sample(rng);
      let dup = false;
      for (let i = 0; i < got; i++) if (favCategory[u * MAX_FAVOURED + i] === c) dup = true;
      if (dup) continue;
      const strength = CLICK_MODEL.affinityMin + (CLICK_MODEL.affinityMax - CLICK_MODEL.affinityMin) * rng.float();
      favCategory[u * MAX_FAVOURED + got] = c;
      favStrength[u * MAX_FAVOURED + got] = strength;
      affinity[u * C + c] += strength;
      got++;
    }
    favCount[u] = got;
  }
  // Normalise activity to mean 1 so the column reads as "relative activity level".
  const mean = activitySum / n;
  for (let u = 0; u < n; u++) activity[u] = Math.round((activity[u] / mean) * 1e6) / 1e6;
  return {
    count: n,
    device,
    activity,
    signupMicros,
    bias,
    affinity,
    favCount,
    favCategory,
    favStrength,
    sampler: new AliasTable(activity),
    veteran: 0,
  };
}

function buildAdvertisers(o: WorldOptions): Advertisers {
  const rng = new Rng(o.seed, STREAM.advertisers);
  const n = o.advertisers;
  const tierSampler = new AliasTable(TIER_SHARE);
  const tier = new Uint8Array(n);
  const effect = new Float32Array(n);
  const names: string[] = [];
  const used = new Set<string>();
  for (let a = 0; a < n; a++) {
    tier[a] = tierSampler.sample(rng);
    effect[a] = CLICK_MODEL.advertiserSigma * rng.normal();
    let name = '';
    for (let tries = 0; tries < 8 && (name === '' || used.has(name)); tries++) {
      name = `${NAME_ROOTS[rng.int(NAME_ROOTS.length)]} ${NAME_NOUNS[rng.int(NAME_NOUNS.length)]}${NAME_SUFFIXES[rng.int(NAME_SUFFIXES.length)]}`;
    }
    // Past ~4000 advertisers the name space runs thin: number the duplicates rather than loop.
    if (used.has(name)) name = `${name} ${a + 1}`;
    used.add(name);
    names.push(name);
  }
  return { count: n, tier, names, effect };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function buildAds(o: WorldOptions, advertisers: Advertisers, categorySampler: AliasTable): Ads {
  const rng = new Rng(o.seed, STREAM.ads);
  const n = o.ads;
  // Each advertiser sells mainly in one category, sometimes in a second one.
  const mainCat = new Uint8Array(advertisers.count);
  const secondCat = new Uint8Array(advertisers.count);
  const advWeights = new Float64Array(advertisers.count);
  for (let a = 0; a < advertisers.count; a++) {
    mainCat[a] = categorySampler.sample(rng);
    secondCat[a] = categorySampler.sample(rng);
    advWeights[a] = TIER_ADS_WEIGHT[advertisers.tier[a]];
  }
  const advSampler = new AliasTable(advWeights);
  const advertiser = new Int32Array(n);
  const category = new Uint8Array(n);
  const price = new Float64Array(n);
  const bid = new Float64Array(n);
  const quality = new Float64Array(n);
  const staticLogit = new Float64Array(n);
  const popularity = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // The first ads go one per advertiser (while there are ads), so every advertiser has at least one.
    const a = i < advertisers.count ? i : advSampler.sample(rng);
    advertiser[i] = a;
    const r = rng.float();
    const c = r < 0.7 ? mainCat[a] : r < 0.9 ? secondCat[a] : categorySampler.sample(rng);
    category[i] = c;
    const median = CATEGORIES[c].medianPrice;
    const raw = median * rng.logNormal(0, 0.6);
    // Shop prices end in .99 (or .49 below $5).
    price[i] = raw >= 5 ? Math.max(1, Math.round(raw)) - 0.01 : Math.max(0.49, Math.round(raw * 2) / 2 - 0.01);
    bid[i] = Math.min(8, Math.max(0.05, round2(0.15 * Math.pow(price[i], 0.45) * rng.logNormal(0, 0.35))));
    quality[i] = CLICK_MODEL.adQualitySigma * rng.normal();
    staticLogit[i] = advertisers.effect[a] + CLICK_MODEL.logPriceRatio * Math.log(price[i] / median);
    popularity[i] = rng.logNormal(0, TRAFFIC.adPopularitySigma) * bid[i];
  }
  const byCategory: (AliasTable | null)[] = [];
  const byCategoryIds: Int32Array[] = [];
  for (let c = 0; c < C; c++) {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) if (category[i] === c) ids.push(i);
    byCategoryIds.push(Int32Array.from(ids));
    byCategory.push(ids.length > 0 ? new AliasTable(ids.map((i) => popularity[i])) : null);
  }
  return { count: n, advertiser, category, price, bid, quality, staticLogit, byCategory, byCategoryIds, all: new AliasTable(popularity) };
}

export function buildWorld(o: WorldOptions): World {
  const categorySampler = new AliasTable(categoryPopularity);
  const deviceSampler = new AliasTable(DEVICE_MIX);
  const users = buildUsers(o, categorySampler, deviceSampler);
  const advertisers = buildAdvertisers(o);
  const ads = buildAds(o, advertisers, categorySampler);
  return { users, advertisers, ads, queries: buildQueries(), categorySampler, deviceSampler };
}

export { C as CATEGORY_COUNT, MAX_FAVOURED };
