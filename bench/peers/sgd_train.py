"""Training-throughput peer: scikit-learn SGDClassifier(loss='log_loss'), one partial_fit pass over the same
hashed rows lockstep trains on (a CSR matrix built from the raw int32 indices / float32 values / uint8 labels
files the benchmark writes). Two settings: sklearn's defaults (shuffle=True: each pass visits the rows in a
random order) and shuffle=False (rows in the given order, as lockstep visits them; sklearn's fastest setting).
Protocol (so that the benchmark can interleave peer passes with its own under the same machine load): after loading
it prints "ready"; then each stdin line "default" or "in_order" runs one pass and prints one JSON line
{"wall": seconds, "cpu": CPU seconds of this process}; "quit" exits."""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

meta = json.load(open(sys.argv[1]))
n, w, d = meta["rows"], meta["width"], meta["dimension"]
indices = np.fromfile(meta["indices"], dtype="<i4")
values = np.fromfile(meta["values"], dtype="<f4").astype(np.float64)
labels = np.fromfile(meta["labels"], dtype=np.uint8).astype(np.float64)
assert indices.size == n * w and values.size == n * w and labels.size == n
indptr = np.arange(0, n * w + 1, w, dtype=np.int32 if n * w < 2**31 else np.int64)
X = sp.csr_matrix((values, indices, indptr), shape=(n, d))
del values
print(f"sklearn: {n} rows x {w} slots, dimension {d}", file=sys.stderr)

print("ready", flush=True)
for line in sys.stdin:
    setting = line.strip()
    if setting == "quit":
        break
    clf = SGDClassifier(loss="log_loss") if setting == "default" else SGDClassifier(loss="log_loss", shuffle=False)
    w0, c0 = time.perf_counter(), time.process_time()
    clf.partial_fit(X, labels, classes=np.array([0.0, 1.0]))
    print(json.dumps({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}), flush=True)
