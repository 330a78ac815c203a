/**
 * The parameters of the simulated marketplace: who searches when (TRAFFIC), the true click
 * probability (CLICK_MODEL) and when clicks arrive (CLICK_DELAY). docs/data.md explains each one;
 * keep the two in step. Changing any number here changes the data: bump GENERATOR_VERSION.
 */

/** Written to manifest.json: identifies the data-generating process, not the package version. */
export const GENERATOR_VERSION = 1;

export const TRAFFIC = {
  /** Relative search traffic per UTC hour (users are simulated in one timezone: UTC is their local time). */
  hourWeights: [
    0.35, 0.25, 0.18, 0.14, 0.13, 0.17, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.92, 0.88, 0.88, 0.92, 1.0, 1.1, 1.25,
    1.35, 1.3, 1.05, 0.65,
  ],
  /** Saturday and Sunday get this much more traffic than weekdays. */
  weekendFactor: 1.12,
  /** Traffic grows by this fraction per day (a slowly growing marketplace). */
  dailyGrowth: 0.003,
  /** P(a result page shows k sponsored products), k = 1..8: one page view → k impressions with the same ts. */
  adsPerPage: [0.12, 0.16, 0.17, 0.16, 0.13, 0.11, 0.08, 0.07],
  /** Users' activity is log-normal with this σ (heavy-tailed: the top 1% of users make ~10% of the traffic). */
  activitySigma: 1.3,
  /** Share of users who sign up during the simulated period (cold-start users); the rest signed up in the 3 years before. */
  newUserShare: 0.12,
  signupHistoryDays: 3 * 365,
  /** P(a page view comes from the user's primary device); otherwise any device by the global mix. */
  primaryDeviceShare: 0.8,
  /** P(a user searches in one of their favoured categories); otherwise a category by global popularity. */
  favouredQueryShare: 0.55,
  /** Zipf exponent of base-phrase popularity within a category. */
  queryZipf: 0.9,
  /** P(a shown ad is from the query's category); otherwise the ad is any ad (broad match, cross-sell). */
  adMatchesQueryShare: 0.82,
  /** σ of the log-normal ad popularity (how often the ad server picks an ad among eligible ones). */
  adPopularitySigma: 1.0,
  /** Ads are ranked on the page by bid × exp(N(0, σ²)) (σ = this); the latent quality plays no part. */
  rankNoiseSigma: 0.3,
  /** Each advertiser scales its bids each day by exp(N(0, σ²)). */
  dailyBidSigma: 0.1,
} as const;

export const CLICK_MODEL = {
  /** Intercept of the logit: with the defaults the overall CTR is about 3%. */
  base: -5.2,
  /** Per-user click propensity, N(0, σ²). */
  userBiasSigma: 0.4,
  /** Each user favours 1, 2 or 3 categories with these probabilities (categories drawn by popularity). */
  favouredCountWeights: [0.45, 0.35, 0.2],
  /** Affinity to a favoured category: uniform in [min, max] logit units. */
  affinityMin: 1.0,
  affinityMax: 2.0,
  /** Small dense user × category noise, N(0, σ²), on top of the sparse favoured affinities. */
  affinityNoiseSigma: 0.15,
  /** Each day each user swaps one favoured category for another with this probability (interest drift). */
  interestSwitchPerDay: 0.01,
  /** Latent ad quality, N(0, σ²), which then follows a random walk with this daily step σ. */
  adQualitySigma: 0.5,
  adQualityDailyStepSigma: 0.04,
  /** Advertiser effect (brand strength), N(0, σ²). */
  advertiserSigma: 0.15,
  /** Price effect: coefficient × ln(price / category median price) (cheaper than usual → more clicks). */
  logPriceRatio: -0.25,
  /** Position bias (log-odds of examination) for positions 1..8. */
  position: [0, -0.3, -0.55, -0.75, -0.92, -1.06, -1.18, -1.28],
  /** Hour-of-day effect: amplitude × cos(2π (hour − peak) / 24). */
  hourAmplitude: 0.15,
  hourPeak: 21,
  /** Device effect by DEVICES order (mobile, desktop, tablet). */
  device: [0.12, 0, 0.06],
  /** Added when the query's category equals the ad's category. */
  queryMatch: 0.9,
} as const;

/**
 * Click delay, independent of the click probability: a mixture of a fast log-normal (the user clicks
 * while on the page) and a slow one (the user comes back to the tab, or the click is reported late).
 */
export const CLICK_DELAY = {
  fastMedianSeconds: 40,
  fastSigma: 1.3,
  slowShare: 0.045,
  slowMedianSeconds: 7200,
  slowSigma: 1.2,
  /** Delays are at least this long, so click_ts > ts always holds. */
  minSeconds: 1,
} as const;

/** The attribution window docs/data.md recommends: a click counts if it arrives within it. */
export const RECOMMENDED_ATTRIBUTION_WINDOW_SECONDS = 3600;

/** Hour-of-day logit effect (hour 0..23). */
export function hourEffect(hour: number): number {
  return CLICK_MODEL.hourAmplitude * Math.cos((2 * Math.PI * (hour - CLICK_MODEL.hourPeak)) / 24);
}

/** The error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): enough for a CDF in a manifest. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-ax * ax);
  return sign * y;
}

function logNormalCdf(x: number, median: number, sigma: number): number {
  return 0.5 * (1 + erf(Math.log(x / median) / (sigma * Math.SQRT2)));
}

/**
 * P(click delay ≤ seconds) under CLICK_DELAY, ignoring the 1 s floor (it moves < 0.3% of the mass
 * below one second). The label "clicked within W" has probability p_click × clickDelayCdf(W).
 */
export function clickDelayCdf(seconds: number): number {
  if (seconds <= 0) return 0;
  const d = CLICK_DELAY;
  return (
    (1 - d.slowShare) * logNormalCdf(seconds, d.fastMedianSeconds, d.fastSigma) +
    d.slowShare * logNormalCdf(seconds, d.slowMedianSeconds, d.slowSigma)
  );
}
