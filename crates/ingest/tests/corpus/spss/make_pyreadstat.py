"""SPSS corpus files written by pyreadstat (ReadStat): plain, bytecode-compressed (row_compress) and zlib (.zsav).

Run from this folder: python3 make_pyreadstat.py  (pip install pyreadstat pandas). Writes the files and, for each,
<file>.json with the content this script told pyreadstat to store (see ../expected.py).
"""
import datetime as dt
import os
import sys

import numpy as np
import pandas as pd
import pyreadstat

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import expected  # noqa: E402

WRITER = f"pyreadstat {pyreadstat.__version__}"
HERE = os.path.dirname(os.path.abspath(__file__))

df = pd.DataFrame(
    {
        "id": [1.0, 2.0, 3.0, 4.0],
        "q1": [1.0, 2.0, 8.0, 9.0],
        "age": [13.0, 98.0, 0.0, np.nan],
        "score": [0.25, 12.5, -3.0, 1e-3],
        "region": ["عمّان", "กรุงเทพฯ", "São Tomé", ""],
        "visit": [dt.date(2021, 3, 4), dt.date(1960, 1, 1), None, dt.date(1999, 12, 31)],
        "stamp": [
            dt.datetime(2021, 3, 4, 10, 20, 30, 900000),
            dt.datetime(2021, 3, 4, 0, 0, 0),
            None,
            dt.datetime(1999, 12, 31, 23, 59, 59, 500000),
        ],
        "tod": [dt.time(13, 30, 15), dt.time(0, 0, 0), None, dt.time(23, 59, 59)],
    }
)
header = list(df.columns)
rows = [
    ["1", "1", "13", "0.25", "عمّان", "2021-03-04", "2021-03-04 10:20:30.9", "13:30:15"],
    ["2", "2", "98", "12.5", "กรุงเทพฯ", "1960-01-01", "2021-03-04", "00:00:00"],
    ["3", "8", "0", "-3", "São Tomé", "", "", ""],
    ["4", "9", "", "0.001", "", "1999-12-31", "1999-12-31 23:59:59.5", "23:59:59"],
]
variable_labels = {"q1": "Offered money for images?", "region": "Région / المنطقة", "visit": "Date of visit"}
value_labels = {"q1": [(1, "Yes"), (2, "No"), (8, "Don't know"), (9, "Refused")]}

for name, kwargs in [
    ("pyreadstat_plain.sav", {}),
    ("pyreadstat_bytecode.sav", {"row_compress": True}),
    ("pyreadstat_zlib.zsav", {"compress": True}),
]:
    pyreadstat.write_sav(
        df,
        os.path.join(HERE, name),
        column_labels=variable_labels,
        variable_value_labels={k: dict(v) for k, v in value_labels.items()},
        missing_ranges={"q1": [8, 9], "age": [{"lo": 97, "hi": 99}]},
        **kwargs,
    )
    expected.write(
        HERE,
        name,
        WRITER + (" " + " ".join(f"{k}=True" for k in kwargs) if kwargs else ""),
        "sav",
        header,
        rows,
        variable_labels=variable_labels,
        value_labels={k: [(str(c), l) for c, l in v] for k, v in value_labels.items()},
        missing_codes={"q1": ["8", "9"]},
        missing_ranges={"age": [[97, 99]]},
    )
print("wrote pyreadstat SPSS corpus")
