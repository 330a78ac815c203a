"""The pandas peer of `npm run bench -- features`: the same feature views and training set as lockstep's DuckDB
engine, built the way Feast's file offline store does it (pandas group-bys, rolling windows, merge_asof).

Run with Debian's /usr/bin/python3 (python3-pandas 1.5; no pyarrow, hence CSV in and out):

    /usr/bin/python3 bench/peers/features_pandas.py --impressions imp.csv --clicks clicks.csv \
        --spec spec.json --out result.csv

spec.json (written by bench/features.ts from the resolved repo) holds the label definition, every view (keys,
interval, ttl, lag, features with fn / window / default / prior / strength / column) and the training set's
feature columns. Semantics (docs/feature-store.md):
  - label: 1 if a click follows the impression within the attribution window (0 <= delay <= window);
    the first such click is the impression's label event, at click time.
  - view rows: one per (entity, tick T) with any event in [T - interval, T); each feature aggregates the
    entity's events in [T - window, T), i.e. ticks in (T - window, T].
  - join: the row with the greatest T <= t - lag, used if t - T < ttl, else the default (also for null).
Prints one JSON line with its own timings to stdout.
"""
import argparse
import json
import time

import numpy as np
import pandas as pd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impressions", required=True)
    ap.add_argument("--clicks", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)

    started = time.perf_counter()
    imp = pd.read_csv(args.impressions)
    clicks = pd.read_csv(args.clicks)
    # Timestamps arrive as epoch milliseconds (int64), exactly as the engine sees them.
    read_s = time.perf_counter() - started

    lab = spec["labels"]
    key, ts = lab["key"], lab["timestamp"]
    imp = imp.rename(columns={ts: "t"})
    # Label times: the first click within the attribution window of its impression.
    c = clicks.rename(columns={lab["event_timestamp"]: "ct"}).merge(imp[[key, "t"]], on=key, how="inner")
    c = c[(c["ct"] >= c["t"]) & (c["ct"] - c["t"] <= lab["window_ms"])]
    label_ms = c.groupby(key)["ct"].min()
    imp["label_ms"] = imp[key].map(label_ms)
    imp["label"] = imp["label_ms"].notna().astype("int64")

    spine = imp.sort_values("t", kind="stable").reset_index(drop=True)
    out = spine[[key, "label"]].copy()
    view_s = {}
    for view in spec["views"]:
        v_started = time.perf_counter()
        table = build_view(imp, view)
        joined = point_in_time(spine, table, view, spec["features"].get(view["name"], []))
        for col in joined.columns:
            out[col] = joined[col].to_numpy()
        view_s[view["name"]] = round(time.perf_counter() - v_started, 3)

    out.to_csv(args.out, index=False, float_format="%.17g")
    print(json.dumps({"seconds": time.perf_counter() - started, "read_seconds": read_s, "views_seconds": view_s, "rows": len(out)}))


def build_view(imp, view):
    """The view table: keys, T, one column per feature (float64, NaN for null)."""
    keys = view["key_columns"]
    join_keys = view["join_keys"]
    interval = view["interval_ms"]
    uses_labels = view["uses_labels"]
    value_cols = sorted({f["column"] for f in view["features"] if f.get("column")})

    base = imp.dropna(subset=keys)[keys + ["t", "label_ms"] + value_cols]
    frames = [base.assign(src=True)]
    if uses_labels:
        frames.append(base[base["label_ms"].notna()].assign(t=lambda d: d["label_ms"].astype("int64"), src=False))
    ev = pd.concat(frames, ignore_index=True)
    ev["tick"] = (ev["t"] // interval) * interval + interval
    ev["is_src"] = ev["src"].astype("float64")
    ev["is_lab"] = 1.0 - ev["is_src"]
    ev["t_src"] = ev["t"].where(ev["src"]).astype("float64")
    ev["t_lab"] = ev["t"].where(~ev["src"]).astype("float64")
    aggs = {"n_source": ("is_src", "sum"), "n_label": ("is_lab", "sum"), "max_source": ("t_src", "max"), "max_label": ("t_lab", "max")}
    for col in value_cols:
        for kind, mask in (("source", ev["src"]), ("label", ~ev["src"])):
            vals = ev[col].where(mask)
            ev[f"v_{kind}_{col}"] = vals
            ev[f"k_{kind}_{col}"] = vals.notna().astype("float64")
            aggs[f"sum_{kind}_{col}"] = (f"v_{kind}_{col}", "sum")
            aggs[f"k_{kind}_{col}"] = (f"k_{kind}_{col}", "sum")
    parts = ev.groupby(keys + ["tick"], sort=True).agg(**aggs).reset_index()
    parts = parts.rename(columns=dict(zip(keys, join_keys)))

    # Rolling windows over tick time per entity: ticks in (T - window, T].
    parts["tick_dt"] = pd.to_datetime(parts["tick"], unit="ms")
    g = parts.groupby(join_keys, sort=False)
    row_index = pd.MultiIndex.from_frame(parts[join_keys + ["tick_dt"]])
    cache = {}

    def windowed(col, window_ms, fn):
        k = (col, window_ms, fn)
        if k in cache:
            return cache[k]
        if window_ms == interval:
            res = parts[col].to_numpy(dtype="float64")
        elif window_ms is None:
            # Cumulative over all history; a tick without a value (NaN) neither adds nor resets anything.
            if fn == "max":
                res = parts[col].fillna(-np.inf).groupby([parts[k] for k in join_keys], sort=False).cummax()
                res = res.replace(-np.inf, np.nan).to_numpy(dtype="float64")
            else:
                res = parts[col].fillna(0.0).groupby([parts[k] for k in join_keys], sort=False).cumsum().to_numpy(dtype="float64")
        else:
            r = g.rolling(f"{window_ms}ms", on="tick_dt", closed="right")[col]
            r = r.max() if fn == "max" else r.sum()
            # groupby().rolling() returns a series indexed by (keys..., tick_dt), one row per (entity, tick):
            # align it to the parts' rows by that index rather than by position.
            res = r.reindex(row_index).to_numpy(dtype="float64")
        cache[k] = res
        return res

    table = parts[join_keys + ["tick"]].copy()
    for f in view["features"]:
        w = f["window_ms"]
        ev_kind = f["events"]
        if f["fn"] == "count":
            val = windowed(f"n_{ev_kind}", w, "sum")
        elif f["fn"] == "sum":
            val = np.nan_to_num(windowed(f"sum_{ev_kind}_{f['column']}", w, "sum"), nan=0.0)
        elif f["fn"] == "mean":
            n = windowed(f"k_{ev_kind}_{f['column']}", w, "sum")
            s = np.nan_to_num(windowed(f"sum_{ev_kind}_{f['column']}", w, "sum"), nan=0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                val = np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)
        elif f["fn"] == "ctr":
            clicks = windowed("n_label", w, "sum")
            shown = windowed("n_source", w, "sum")
            den = shown + f["strength"]
            with np.errstate(invalid="ignore", divide="ignore"):
                val = np.where(den > 0, (clicks + f["prior"] * f["strength"]) / np.where(den > 0, den, 1), np.nan)
        elif f["fn"] == "last_seen":
            val = windowed(f"max_{ev_kind}", w, "max")
        table[f["name"]] = val
    return table


def point_in_time(spine, table, view, wanted):
    """merge_asof of the spine (sorted by t) onto the view rows available at T + lag, then TTL and defaults."""
    join_keys, key_fields = view["join_keys"], view["key_fields"]
    right = table.rename(columns=dict(zip(join_keys, key_fields)))
    right["avail"] = right["tick"] + view["lag_ms"]
    right = right.sort_values("avail", kind="stable")
    left = spine[key_fields + ["t"]].copy()
    left["row"] = np.arange(len(left))
    left = left.dropna(subset=key_fields)
    for k in key_fields:
        if right[k].dtype != left[k].dtype:
            right[k] = right[k].astype(left[k].dtype)
    merged = pd.merge_asof(left, right[key_fields + ["avail", "tick"] + [f["name"] for f in view["features"] if f["name"] in wanted]],
                           left_on="t", right_on="avail", by=key_fields, direction="backward", allow_exact_matches=True)
    fresh = (merged["t"] - merged["tick"]) < view["ttl_ms"]
    out = pd.DataFrame(index=np.arange(len(spine)))
    for f in view["features"]:
        if f["name"] not in wanted:
            continue
        d = f["default"]
        col = np.full(len(spine), np.nan if d is None else float(d))
        vals = merged[f["name"]].to_numpy(dtype="float64")
        if d is not None:
            vals = np.where(np.isnan(vals), float(d), vals)
        vals = np.where(fresh.to_numpy(), vals, np.nan if d is None else float(d))
        col[merged["row"].to_numpy()] = vals
        out[f"{view['name']}__{f['name']}"] = col
    return out


if __name__ == "__main__":
    main()
