"""Writes the format benchmark files: ROWS x 20 columns (an id, 12 coded answers 1-5 with 8/9 missing codes and
value labels, 4 decimals, 3 short texts) as CSV, SPSS .sav and .zsav and Stata .dta (pyreadstat), and XLSX_ROWS x 20 as .xlsx
(openpyxl, write-only). Usage: python3 gen.py OUT_DIR [ROWS] [XLSX_ROWS]."""
import os
import sys

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
xlsx_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
cols = {"resp_id": np.arange(1, rows + 1, dtype=np.float64)}
for i in range(12):
    cols[f"q{i + 1:02d}"] = rng.choice([1, 2, 3, 4, 5, 8, 9], size=rows).astype(np.float64)
for i in range(4):
    cols[f"x{i + 1}"] = np.round(rng.normal(50, 10, size=rows), 4)
regions = np.array(["Central", "Northern", "Southern", "Eastern", "Western"])
for i in range(3):
    cols[f"s{i + 1}"] = regions[rng.integers(0, 5, size=rows)]
df = pd.DataFrame(cols)
labels = {f"q{i + 1:02d}": {1: "Never", 2: "Rarely", 3: "Sometimes", 4: "Often", 5: "Always", 8: "Don't know", 9: "Refused"} for i in range(12)}
df.to_csv(os.path.join(out, "big.csv"), index=False)
pyreadstat.write_sav(df, os.path.join(out, "big.sav"), variable_value_labels=labels,
                     missing_ranges={k: [8, 9] for k in labels})
pyreadstat.write_sav(df, os.path.join(out, "big.zsav"), variable_value_labels=labels,
                     missing_ranges={k: [8, 9] for k in labels}, compress=True)
pyreadstat.write_dta(df, os.path.join(out, "big.dta"), variable_value_labels=labels, version=15)
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet("cases")
ws.append(list(df.columns))
for row in df.head(xlsx_rows).itertuples(index=False):
    ws.append(list(row))
wb.save(os.path.join(out, "big.xlsx"))
print("wrote", out, rows, "rows;", xlsx_rows, "xlsx rows")
