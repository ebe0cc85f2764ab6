#!/usr/bin/env python3
"""Writes the `dh estimate` benchmark design as CSV: 1,000,000 rows, 500 strata, 10,000 PSUs.

Deterministic: the same arguments always give a byte-identical file (a SplitMix64 generator written
out here, so no library version can change the stream). Columns:
  stratum  1..500               (20 PSUs per stratum)
  psu      1..10000             (unique across strata)
  weight   sampling weight      (varies by stratum, PSU and row)
  domain   d01..d20             (a 20-level text domain, unequal sizes)
  y        continuous outcome   (stratum and PSU effects plus noise)
  b        0/1 indicator        (PSU-level prevalence around 0.3)
  age      12..17, sex F/M      (extra columns that the estimates do not use)
Usage: gen_estimate_data.py OUT.csv [--rows N] [--strata H] [--psus P]
"""
import argparse
import math

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def normal(self):
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--strata", type=int, default=500)
    ap.add_argument("--psus", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20261128)
    a = ap.parse_args()
    if a.psus % a.strata or a.rows % a.psus:
        raise SystemExit("rows must be a multiple of psus, and psus of strata")
    rng = SplitMix64(a.seed)
    per_stratum = a.psus // a.strata
    per_psu = a.rows // a.psus
    # unequal domain sizes: cumulative probabilities proportional to 1..20
    dom_w = [k + 1 for k in range(20)]
    total = sum(dom_w)
    cum = []
    acc = 0
    for w in dom_w:
        acc += w
        cum.append(acc / total)
    labels = ["d%02d" % (k + 1) for k in range(20)]
    dom_effect = [(-1) ** k * 0.5 * k for k in range(20)]
    with open(a.out, "w", newline="\n") as f:
        f.write("stratum,psu,weight,domain,y,b,age,sex\n")
        psu = 0
        for h in range(1, a.strata + 1):
            base_w = 50.0 + 150.0 * rng.uniform()
            strat_eff = 10.0 * rng.normal()
            for _ in range(per_stratum):
                psu += 1
                psu_eff = 5.0 * rng.normal()
                psu_w = base_w * (0.7 + 0.6 * rng.uniform())
                p = min(0.95, max(0.02, 0.3 + 0.15 * rng.normal()))
                rows = []
                for _ in range(per_psu):
                    u = rng.uniform()
                    d = 0
                    while cum[d] < u and d < 19:
                        d += 1
                    w = psu_w * (0.9 + 0.2 * rng.uniform())
                    y = 100.0 + strat_eff + psu_eff + dom_effect[d] + 15.0 * rng.normal()
                    b = 1 if rng.uniform() < p else 0
                    age = 12 + int(6 * rng.uniform())
                    sex = "F" if rng.uniform() < 0.5 else "M"
                    rows.append("%d,%d,%.6f,%s,%.4f,%d,%d,%s\n" % (h, psu, w, labels[d], y, b, age, sex))
                f.write("".join(rows))


if __name__ == "__main__":
    main()
