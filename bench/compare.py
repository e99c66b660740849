#!/usr/bin/env python3
"""Runs spotify annoy and hnswlib on the vectors `cfaces bench --export DIR` wrote, one thread
each, and prints one table beside the cf-forest rows of the same run (`--json`), with ratios.

Usage: compare.py DIR CF_FOREST_JSONL [--annoy-trees 50] [--search-k ...] [--ef ...]
"""
import argparse
import json
import os
import sys
import tempfile
import time

# One thread for every contender: numpy's BLAS would otherwise use all cores.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402


def exact_truth(items, queries, k):
    sims = queries @ items.T
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def recalls(found, truth, k):
    r1 = np.mean([len(f) > 0 and f[0] == t[0] for f, t in zip(found, truth)])
    rk = np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)])
    return float(r1), float(rk)


def run_annoy(items, queries, truth, k, trees, search_ks):
    import annoy

    dim = items.shape[1]
    index = annoy.AnnoyIndex(dim, "angular")
    for i, v in enumerate(items):
        index.add_item(i, v)
    started = time.perf_counter()
    index.build(trees, n_jobs=1)
    build = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.ann")
        index.save(path)
        size = os.path.getsize(path)
    rows = []
    for search_k in search_ks:
        started = time.perf_counter()
        found = [index.get_nns_by_vector(q, k, search_k=search_k) for q in queries]
        qps = len(queries) / (time.perf_counter() - started)
        r1, rk = recalls(found, truth, k)
        rows.append(dict(method="annoy", config=f"trees={trees}",
                         params=f"trees={trees} search_k={search_k}",
                         recall_at_1=r1, recall_at_10=rk, qps=qps, build_seconds=build,
                         index_bytes=size))
    return rows


def run_hnsw(items, queries, truth, k, m, efs):
    import hnswlib

    dim = items.shape[1]
    index = hnswlib.Index(space="cosine", dim=dim)
    index.init_index(max_elements=len(items), ef_construction=200, M=m)
    index.set_num_threads(1)
    started = time.perf_counter()
    index.add_items(items, np.arange(len(items)))
    build = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.hnsw")
        index.save_index(path)
        size = os.path.getsize(path)
    rows = []
    for ef in efs:
        index.set_ef(max(ef, k))
        started = time.perf_counter()
        found = [index.knn_query(q, k=k)[0][0].tolist() for q in queries]
        qps = len(queries) / (time.perf_counter() - started)
        r1, rk = recalls(found, truth, k)
        rows.append(dict(method="hnswlib", config=f"M={m}", params=f"M={m} ef={ef}", recall_at_1=r1,
                         recall_at_10=rk, qps=qps, build_seconds=build, index_bytes=size))
    return rows


def qps_at(rows, key, target):
    """QPS where one configuration's recall curve crosses `target`, interpolated linearly
    between its two neighbouring grid points (or the fastest point already above it)."""
    pts = sorted((r[key], r["qps"]) for r in rows)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 < target <= r1:
            return q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    return max((q for r, q in pts if r >= target), default=None)


def best_config(rows, key, target):
    """The configuration (rows sharing `config`) reaching `target` fastest: (qps, config)."""
    configs = {}
    for r in rows:
        configs.setdefault(r["config"], []).append(r)
    scored = [(qps_at(group, key, target), name) for name, group in configs.items()]
    scored = [(q, name) for q, name in scored if q is not None]
    return max(scored, default=(None, "-"))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir")
    parser.add_argument("cf_jsonl")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--annoy-trees", type=int, default=50)
    parser.add_argument("--annoy-search-k", default="5000,10000,15000,20000,30000,50000")
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--hnsw-ef", default="10,20,40,80,160")
    args = parser.parse_args()

    items = np.load(os.path.join(args.data_dir, "items.npy")).astype(np.float32)
    queries = np.load(os.path.join(args.data_dir, "queries.npy")).astype(np.float32)
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = exact_truth(items, queries, args.k)
    started = time.perf_counter()
    for q in queries:
        s = items @ q
        np.argpartition(-s, args.k)[: args.k]
    numpy_qps = len(queries) / (time.perf_counter() - started)

    ours = [json.loads(line) for line in open(args.cf_jsonl) if line.strip()]
    exact_qps = next(r["qps"] for r in ours if r["method"] == "exact" and r["storage"] == "f32")
    rows = [dict(method="numpy exact", params="f32, one query at a time", recall_at_1=1.0,
                 recall_at_10=1.0, qps=numpy_qps, build_seconds=0.0,
                 index_bytes=items.nbytes)]
    for r in ours:
        params = (f"{r['storage']} exact" if r["method"] == "exact" else
                  f"{r['storage']} T={r['trees']} K={r['leaf_size']} search_k={r['search_k']}"
                  + (f" {r['order']}-order" if r.get("order") not in (None, "squared") else ""))
        rows.append(dict(method=r["method"], params=params, recall_at_1=r["recall_at_1"],
                         recall_at_10=r["recall_at_10"], qps=r["qps"],
                         build_seconds=r["build_seconds"],
                         index_bytes=r["forest_bytes"] + r["vector_bytes"],
                         storage=r["storage"], forest_bytes=r["forest_bytes"],
                         config=f"{r['storage']} T={r['trees']} K={r['leaf_size']}"
                                + (f" {r['order']}-order" if r.get("order") not in (None, "squared") else "")))
    annoy_rows = run_annoy(items, queries, truth, args.k, args.annoy_trees,
                           [int(x) for x in args.annoy_search_k.split(",")])
    hnsw_rows = run_hnsw(items, queries, truth, args.k, args.hnsw_m,
                         [int(x) for x in args.hnsw_ef.split(",")])
    rows += annoy_rows + hnsw_rows

    print(f"{len(items)} items x {items.shape[1]}, {len(queries)} queries, k={args.k}, one thread")
    print(f"{'method':<12} {'parameters':<44} {'R@1':>7} {'R@10':>7} {'QPS':>9} "
          f"{'x cf exact':>10} {'build s':>8} {'index MB':>9}")
    for r in rows:
        print(f"{r['method']:<12} {r['params']:<44} {r['recall_at_1']:>7.4f} {r['recall_at_10']:>7.4f} "
              f"{r['qps']:>9.1f} {r['qps'] / exact_qps:>9.2f}x {r['build_seconds']:>8.2f} "
              f"{r['index_bytes'] / 1e6:>9.1f}")

    print("\nQPS at equal recall, one thread, same run (each curve interpolated linearly between "
          "its grid points; the fastest cf-forest configuration shown; '-' = not reached)")
    print(f"{'target':<10} {'annoy':>8} {'hnswlib':>9} {'cf f32':>8} {'config':<26} {'cf i8':>8} "
          f"{'config':<26} {'f32/annoy':>9} {'i8/annoy':>9} {'i8/exact':>9}")
    cf = [r for r in rows if r["method"] == "cf-forest"]
    fmt = lambda v: f"{v:8.1f}" if v else f"{'-':>8}"
    ratio = lambda v, base: f"{v / base:8.2f}x" if v and base else f"{'-':>9}"
    for key, target in (("recall_at_10", 0.95), ("recall_at_10", 0.99), ("recall_at_1", 0.99)):
        a = qps_at(annoy_rows, key, target)
        h = qps_at(hnsw_rows, key, target)
        f, fc = best_config([r for r in cf if r["storage"] == "f32"], key, target)
        i, ic = best_config([r for r in cf if r["storage"] == "i8"], key, target)
        label = f"{'R@10' if key == 'recall_at_10' else 'R@1'}={target}"
        print(f"{label:<10} {fmt(a)} {fmt(h):>9} {fmt(f)} {fc:<26} {fmt(i)} {ic:<26} "
              f"{ratio(f, a)} {ratio(i, a)} {ratio(i, exact_qps)}")
        if key == "recall_at_1":
            print(f"{'':<10} f32 forest / f32 exact scan: {ratio(f, exact_qps).strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
