#!/usr/bin/env python3
"""scikit-learn baselines for Warden's triage classifier (not a dependency of Warden).

Reproduces Warden's held-out split exactly (see `warden-classifier`'s `split`
module): a document is in the test slice when

    unit(id) = (splitmix64_finalize(fnv1a_64(id_utf8)) >> 11) / 2**53 < holdout

and trains on the rest. It then fits, on each corpus in ../shared/data/:

- HashingVectorizer (defaults: 2**20 features, signed, l2) + LogisticRegression
  (defaults, max_iter raised so that it converges);
- TfidfVectorizer (defaults) + LinearSVC (defaults);

and prints precision, recall, F1 (spam is the positive class), ROC AUC and the
prediction throughput (vectorise + decision function, one process).

    pip install scikit-learn
    python3 bench/sklearn_baseline.py [--data ../shared/data] [--holdout 0.2]
"""

import argparse
import gzip
import json
import os
import sys
import time

MASK = (1 << 64) - 1


def fnv1a_64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & MASK
    return h


def splitmix64_finalize(z: int) -> int:
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & MASK
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & MASK
    z ^= z >> 31
    return z


def unit(doc_id: str) -> float:
    return (splitmix64_finalize(fnv1a_64(doc_id.encode("utf-8"))) >> 11) / float(1 << 53)


def load(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--export-split", metavar="FILE", help="write the test ids, one a line, and exit")
    args = parser.parse_args()

    from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
    from sklearn.svm import LinearSVC

    for name in ["spamassassin.jsonl.gz", "sms-spam.jsonl.gz"]:
        path = os.path.join(args.data, name)
        if not os.path.exists(path):
            sys.exit(f"{path} is absent: pass --data DIR (the shared data folder)")
        rows = load(path)
        test = [r for r in rows if unit(r["id"]) < args.holdout]
        train = [r for r in rows if unit(r["id"]) >= args.holdout]
        if args.export_split:
            with open(args.export_split, "a") as out:
                for r in test:
                    out.write(r["id"] + "\n")
            continue
        x_train = [r["text"] for r in train]
        y_train = [1 if r["label"] == "spam" else 0 for r in train]
        x_test = [r["text"] for r in test]
        y_test = [1 if r["label"] == "spam" else 0 for r in test]
        mb = sum(len(t.encode("utf-8")) for t in x_test) / 1e6
        print(f"{name}: train {len(train)} ({sum(y_train)} spam), test {len(test)} ({sum(y_test)} spam)")
        models = [
            ("HashingVectorizer+LogisticRegression", HashingVectorizer(), LogisticRegression(max_iter=1000)),
            ("TfidfVectorizer+LinearSVC", TfidfVectorizer(), LinearSVC()),
        ]
        for label, vectorizer, model in models:
            started = time.perf_counter()
            model.fit(vectorizer.fit_transform(x_train), y_train)
            train_s = time.perf_counter() - started
            started = time.perf_counter()
            scores = model.decision_function(vectorizer.transform(x_test))
            predict_s = time.perf_counter() - started
            predicted = [1 if s > 0 else 0 for s in scores]
            print(
                f"  {label}: precision {precision_score(y_test, predicted):.4f} "
                f"recall {recall_score(y_test, predicted):.4f} "
                f"f1 {f1_score(y_test, predicted):.4f} auc {roc_auc_score(y_test, scores):.4f} "
                f"train {train_s:.2f} s, predict {mb / predict_s:.2f} MB/s"
            )


if __name__ == "__main__":
    main()
