"""Quality peers for `npm run bench -- quality`: scikit-learn LogisticRegression and XGBoost on the same raw
columns and the same split as lockstep. Hyper-parameters are chosen without test, by the rule lockstep's models
follow: on the dev split, or (when the job has "cv") by cross-validation over train ∪ dev with lockstep's folds,
by the mean held-out log loss. The chosen setting is then retrained on the final training rows (train, or
train ∪ dev under cross-validation) and scored once on test.

Input: a JSON job on stdin:
  {"name", "sep", "header": bool, "names": [...] | null, "label", "categorical": [...], "numeric": [...],
   "tune": {"train": path, "dev": path}, "final": {"train": path, "test": path}, "fast": bool,
   "cv": {"folds": [fold of each pool row], "labels": [label of each pool row]} (optional)}
Output: one JSON object {"sklearn-lr": {"auc", "logloss", "params", "predictions"}, "xgboost": {...}, "test_labels": [...]}
on stdout, the predictions and labels in the test file's row order (for the paired AUC-difference interval);
progress on stderr.
"""
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer, OneHotEncoder, StandardScaler
import xgboost as xgb

warnings.filterwarnings("ignore")
job = json.load(sys.stdin)
cat, num, label = job["categorical"], job["numeric"], job["label"]


def log(msg):
    print(f"[{job['name']}] {msg}", file=sys.stderr, flush=True)


def load(path):
    df = pd.read_csv(path, sep=job.get("sep", ","), header=0 if job.get("header", True) else None,
                     names=job.get("names"), dtype={c: str for c in cat}, keep_default_na=True, low_memory=False)
    y = df[label].astype(float).values
    for c in cat:
        df[c] = df[c].fillna("__missing__")
    for c in num:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df[cat + num], (y > 0).astype(int)


def scores(p, y, keep=False):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    s = {"auc": float(roc_auc_score(y, p)), "logloss": float(log_loss(y, p, labels=[0, 1]))}
    return {**s, "predictions": [float(v) for v in p]} if keep else s


def brief(s):
    return {k: v for k, v in s.items() if k != "predictions"}


tune_train, tune_dev = load(job["tune"]["train"]), load(job["tune"]["dev"])
final_train, final_test = load(job["final"]["train"]), load(job["final"]["test"])
out = {}
cv = job.get("cv")
if cv:
    # The pool is train's rows then dev's, as lockstep reads them; its labels prove the rows pair up with the folds.
    pool = (pd.concat([tune_train[0], tune_dev[0]], ignore_index=True), np.concatenate([tune_train[1], tune_dev[1]]))
    if len(cv["folds"]) != len(pool[1]) or not np.array_equal(np.asarray(cv["labels"]) > 0, pool[1] > 0):
        sys.exit(f"{job['name']}: the cross-validation folds do not pair up with the pool's rows")
    folds = np.asarray(cv["folds"])
    splits = [((pool[0][folds != k], pool[1][folds != k]), (pool[0][folds == k], pool[1][folds == k])) for k in sorted(set(cv["folds"]))]
    final_train = pool
    on = f"{len(splits)}-fold CV"
else:
    splits = [(tune_train, tune_dev)]
    on = "dev"

# ---- scikit-learn LogisticRegression: one-hot categoricals; numerics either standardised (log1p) or binned.
def sk_pipeline(C, numeric_mode):
    parts = []
    if cat:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore"), cat))
    if num:
        log1p = FunctionTransformer(lambda x: np.sign(x) * np.log1p(np.abs(x)))
        if numeric_mode == "scaled":
            parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), log1p, StandardScaler()), num))
        else:
            parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                               KBinsDiscretizer(n_bins=16, encode="onehot", strategy="quantile")), num))
    return Pipeline([("features", ColumnTransformer(parts)), ("lr", LogisticRegression(C=C, max_iter=2000, solver="lbfgs"))])


def mean_scores(per_split):
    return {k: float(np.mean([s[k] for s in per_split])) for k in ("auc", "logloss")}


best = None
for mode in (["scaled", "binned"] if num else ["none"]):
    for C in [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]:
        t0 = time.time()
        s = mean_scores([scores(sk_pipeline(C, mode).fit(*tr).predict_proba(va[0])[:, 1], va[1]) for tr, va in splits])
        log(f"sklearn-lr C={C} numeric={mode}: {on} logloss {s['logloss']:.5f} auc {s['auc']:.4f} ({time.time() - t0:.1f} s)")
        if best is None or s["logloss"] < best[0]:
            best = (s["logloss"], C, mode)
_, C, mode = best
model = sk_pipeline(C, mode).fit(*final_train)
out["sklearn-lr"] = {**scores(model.predict_proba(final_test[0])[:, 1], final_test[1], keep=True), "params": {"C": C, "numeric": mode}}
log(f"sklearn-lr test: {brief(out['sklearn-lr'])}")


# ---- XGBoost: categoricals as integer codes (by training frequency; unseen → missing), numerics as they are.
def codes(train_df, frames):
    maps = {c: {v: i for i, v in enumerate(train_df[c].value_counts().index)} for c in cat}
    res = []
    for df in frames:
        d = pd.DataFrame({c: df[c].map(maps[c]).astype(float) for c in cat})
        for c in num:
            d[c] = df[c].values
        res.append(d)
    return res


best = None
depths = [4, 6] if job.get("fast") else [2, 3, 5, 7]
for depth in depths:
    for mcw in [1, 5]:
        t0 = time.time()
        curves = []
        for tr, va in splits:
            xt, xv = codes(tr[0], [tr[0], va[0]])
            clf = xgb.XGBClassifier(tree_method="hist", max_depth=depth, min_child_weight=mcw, learning_rate=0.1, n_estimators=1000,
                                    subsample=0.9, colsample_bytree=0.8, early_stopping_rounds=30, eval_metric="logloss",
                                    random_state=0, n_jobs=1)
            clf.fit(xt, tr[1], eval_set=[(xv, va[1])], verbose=False)
            curves.append(clf.evals_result()["validation_0"]["logloss"])
        # The mean held-out curve up to where the first split stopped (30 rounds past its best): its minimum.
        mean_curve = np.mean([c[:min(map(len, curves))] for c in curves], axis=0)
        trees_here = int(np.argmin(mean_curve)) + 1
        loss = float(mean_curve[trees_here - 1])
        log(f"xgboost depth={depth} min_child_weight={mcw}: {trees_here} trees, {on} logloss {loss:.5f} ({time.time() - t0:.1f} s)")
        if best is None or loss < best[0]:
            best = (loss, depth, mcw, trees_here)
_, depth, mcw, trees = best
ft, fx = codes(final_train[0], [final_train[0], final_test[0]])
clf = xgb.XGBClassifier(tree_method="hist", max_depth=depth, min_child_weight=mcw, learning_rate=0.1, n_estimators=trees,
                        subsample=0.9, colsample_bytree=0.8, random_state=0, n_jobs=1)
clf.fit(ft, final_train[1], verbose=False)
out["xgboost"] = {**scores(clf.predict_proba(fx)[:, 1], final_test[1], keep=True), "params": {"max_depth": depth, "min_child_weight": mcw, "trees": trees}}
log(f"xgboost test: {brief(out['xgboost'])}")
out["test_labels"] = [int(v) for v in final_test[1]]
print(json.dumps(out))
