#!/usr/bin/env python3
"""The `dh estimate` benchmark work in Python `svy` (Polars-based): read the CSV, declare the design
(strata, PSUs, weights), then mean + SE of y overall and by the 20-level domain, and the logit
interval of the proportion b = 1. Prints one JSON object (numbers at full precision) and the
seconds spent per step on stderr. Usage: estimate_svy.py DATA.csv"""
import json
import sys
import time

import polars as pl
import svy


def main():
    t0 = time.perf_counter()
    df = pl.read_csv(sys.argv[1])
    sample = svy.Sample(df, svy.Design(stratum="stratum", psu="psu", wgt="weight"))
    t1 = time.perf_counter()
    overall = sample.estimation.mean("y").to_dicts()[0]
    t2 = time.perf_counter()
    by = sample.estimation.mean("y", by="domain").to_dicts()
    t3 = time.perf_counter()
    props = sample.estimation.prop("b", ci_method="logit").to_dicts()
    t4 = time.perf_counter()
    p1 = [p for p in props if str(p["y_level"]) == "1"][0]
    out = {
        "mean": {"estimate": overall["est"], "se": overall["se"]},
        "by": [
            {"domain": str(r["by_level"][0]), "estimate": r["est"], "se": r["se"]}
            for r in sorted(by, key=lambda r: str(r["by_level"][0]))
        ],
        "ciprop": {"estimate": p1["est"], "se": p1["se"], "lower": p1["lci"], "upper": p1["uci"]},
    }
    print(json.dumps(out))
    print(
        "svy seconds: read+design %.3f, mean %.3f, by %.3f, ciprop %.3f"
        % (t1 - t0, t2 - t1, t3 - t2, t4 - t3),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
