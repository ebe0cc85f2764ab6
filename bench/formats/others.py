"""Reads the benchmark files with the reference tools and prints one JSON line each (best of REPEATS):
pyreadstat for .sav/.zsav/.dta, pandas+openpyxl for .xlsx (one run: it is slow), DuckDB (materialised to Arrow) and pandas for CSV.
Usage: python3 others.py DIR [REPEATS]."""
import json
import os
import sys
import time

import duckdb
import pandas as pd
import pyreadstat

d = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def best(fn):
    t, n = float("inf"), 0
    for _ in range(repeats):
        s = time.perf_counter()
        n = fn()
        t = min(t, time.perf_counter() - s)
    return t, n


def report(tool, fmt, fn, times=None):
    global repeats
    saved, repeats = repeats, times or repeats
    t, n = best(fn)
    repeats = saved
    print(json.dumps({"tool": tool, "format": fmt, "rows": n, "seconds": round(t, 3), "rows_per_s": round(n / t)}))


report("pyreadstat", "sav", lambda: len(pyreadstat.read_sav(os.path.join(d, "big.sav"), user_missing=True)[0]))
report("pyreadstat", "zsav", lambda: len(pyreadstat.read_sav(os.path.join(d, "big.zsav"), user_missing=True)[0]))
report("pyreadstat", "dta", lambda: len(pyreadstat.read_dta(os.path.join(d, "big.dta"))[0]))
report("pandas+openpyxl", "xlsx", lambda: len(pd.read_excel(os.path.join(d, "big.xlsx"), sheet_name="cases")), 1)
report("duckdb (all_varchar, to arrow)", "csv", lambda: duckdb.sql(
    f"select * from read_csv('{os.path.join(d, 'big.csv')}', all_varchar=true)").arrow().read_all().num_rows)
report("duckdb (typed, to arrow)", "csv", lambda: duckdb.sql(
    f"select * from read_csv('{os.path.join(d, 'big.csv')}')").arrow().read_all().num_rows)
report("pandas", "csv", lambda: len(pd.read_csv(os.path.join(d, "big.csv"), dtype=str)))
