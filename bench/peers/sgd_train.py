"""Training-throughput peer: scikit-learn SGDClassifier(loss='log_loss'), one partial_fit pass over the same
hashed rows lockstep trains on (a CSR matrix built from the raw int32 indices / float32 values / uint8 labels
files the benchmark writes). Prints one JSON object: seconds of each pass."""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

meta = json.load(open(sys.argv[1]))
repeats = int(sys.argv[2])
n, w, d = meta["rows"], meta["width"], meta["dimension"]
indices = np.fromfile(meta["indices"], dtype="<i4")
values = np.fromfile(meta["values"], dtype="<f4").astype(np.float64)
labels = np.fromfile(meta["labels"], dtype=np.uint8).astype(np.float64)
assert indices.size == n * w and values.size == n * w and labels.size == n
indptr = np.arange(0, n * w + 1, w, dtype=np.int32 if n * w < 2**31 else np.int64)
X = sp.csr_matrix((values, indices, indptr), shape=(n, d))
del values
print(f"sklearn: {n} rows x {w} slots, dimension {d}", file=sys.stderr)

seconds = []
for r in range(repeats):
    # One pass in the given order, as lockstep does (shuffle=False is also sklearn's faster setting).
    clf = SGDClassifier(loss="log_loss", alpha=1e-6, shuffle=False, random_state=0)
    t0 = time.perf_counter()
    clf.partial_fit(X, labels, classes=np.array([0.0, 1.0]))
    seconds.append(time.perf_counter() - t0)
    print(f"sklearn SGDClassifier pass {r + 1}: {seconds[-1]:.2f} s", file=sys.stderr)
print(json.dumps({"seconds": seconds}))
