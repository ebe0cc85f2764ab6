#!/usr/bin/env python3
"""Checks that the benchmark's three tools agree: R `survey` (the reference), `dh estimate` and
Python `svy`. Usage: estimate_compare.py R.json SVY.json DH.json, where DH.json is the output of
one `dh estimate --analyses bench/estimate_analyses.toml --format json` (mean of y overall, by
domain, and the logit interval of b, told apart by `stat` and `domain`)
Exit status 1 when dh differs from R beyond the tolerances (1e-9 relative; 1e-7 for the logit
interval, which R computes by an iterative GLM fit)."""
import json
import sys


def close(a, b, tol):
    return abs(a - b) <= tol * max(abs(a), abs(b)) + 1e-12 * max(1.0, abs(b))


def main():
    r, svy = (json.load(open(p)) for p in sys.argv[1:3])
    rows = json.load(open(sys.argv[3]))["estimates"]
    dh_mean = [e for e in rows if e["stat"] == "mean" and e["domain"] is None]
    dh_by = [e for e in rows if e["stat"] == "mean" and e["domain"] is not None]
    dh_cp = [e for e in rows if e["stat"] == "ciprop"]
    if len(dh_mean) != 1 or len(dh_cp) != 1:
        sys.exit("dh output: expected one overall mean and one ciprop estimate")
    dh = {
        "mean": {"estimate": dh_mean[0]["estimate"], "se": dh_mean[0]["se"]},
        "by": [
            {"domain": row["domain"]["domain"], "estimate": row["estimate"], "se": row["se"]}
            for row in dh_by
        ],
        "ciprop": {k: dh_cp[0][v] for k, v in
                   [("estimate", "estimate"), ("se", "se"), ("lower", "ci_lower"), ("upper", "ci_upper")]},
    }
    worst = {"dh": 0.0, "svy": 0.0}
    failures = []
    for name, other in (("dh", dh), ("svy", svy)):
        pairs = [("mean." + k, r["mean"][k], other["mean"][k], 1e-9) for k in ("estimate", "se")]
        if [b["domain"] for b in r["by"]] != [b["domain"] for b in other["by"]]:
            failures.append("%s: domains differ from R's" % name)
        for rb, ob in zip(r["by"], other["by"]):
            for k in ("estimate", "se"):
                pairs.append(("by[%s].%s" % (rb["domain"], k), rb[k], ob[k], 1e-9))
        for k in ("estimate", "se", "lower", "upper"):
            pairs.append(("ciprop." + k, r["ciprop"][k], other["ciprop"][k], 1e-7))
        for label, a, b, tol in pairs:
            rel = abs(a - b) / max(abs(a), 1e-300)
            worst[name] = max(worst[name], rel)
            if not close(a, b, tol) and name == "dh":
                failures.append("dh %s: %r, R %r" % (label, b, a))
    print("largest relative difference from R: dh %.2e, svy %.2e (%d numbers each)"
          % (worst["dh"], worst["svy"], len(pairs)))
    for f in failures:
        print("MISMATCH " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
