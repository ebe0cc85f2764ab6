"""Stata corpus files written by pyreadstat (ReadStat): extended missing values `.a`/`.b` (missing_user_values),
value labels, %td/%tc dates, and text. Versions 15 (release 119, UTF-8 by definition) and 12 / 13 (releases 115 / 117,
whose text the format says nothing about: ReadStat stores the UTF-8 bytes it is given, the case dh reads as UTF-8).

Run from this folder: python3 make_pyreadstat.py  (pip install pyreadstat pandas).
"""
import datetime as dt
import os
import sys

import numpy as np
import pandas as pd
import pyreadstat

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import expected  # noqa: E402

WRITER = f"pyreadstat {pyreadstat.__version__} write_dta"
df = pd.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "q1": [1.0, 2.0, "a", "b"],
        "score": [0.25, 12.5, np.nan, -3.0],
        "region": ["عمّان", "กรุงเทพฯ", "São Tomé", ""],
        "visit": [dt.date(2021, 3, 4), dt.date(1960, 1, 1), None, dt.date(1999, 12, 31)],
        "stamp": [dt.datetime(2021, 3, 4, 10, 20, 30, 900000), dt.datetime(2021, 3, 4), None,
                  dt.datetime(1999, 12, 31, 23, 59, 59, 500000)],
    }
)
header = list(df.columns)
rows = [
    ["1", "1", "0.25", "عمّان", "2021-03-04", "2021-03-04 10:20:30.9"],
    ["2", "2", "12.5", "กรุงเทพฯ", "1960-01-01", "2021-03-04"],
    ["3", ".a", "", "São Tomé", "", ""],
    ["4", ".b", "-3", "", "1999-12-31", "1999-12-31 23:59:59.5"],
]
for version, release in [(15, 119), (13, 117), (12, 115)]:
    name = f"pyreadstat_v{version}.dta"
    pyreadstat.write_dta(
        df, os.path.join(HERE, name),
        column_labels={"q1": "Offered money for images?", "region": "Région / المنطقة"},
        variable_value_labels={"q1": {1: "Yes", 2: "No"}},
        missing_user_values={"q1": ["a", "b"]},
        version=version,
    )
    expected.write(
        HERE, name, f"{WRITER}(version={version}) -> release {release}", "dta", header, rows,
        variable_labels={"q1": "Offered money for images?", "region": "Région / المنطقة"},
        value_labels={"q1": [("1", "Yes"), ("2", "No")]},
        missing_codes={"q1": [".a", ".b"]},
    )
print("wrote pyreadstat Stata corpus")

# A business-calendar (%tb) column and a %ty year: dh keeps both as numbers, warning about the %tb one only.
cal = pd.DataFrame({"bday": [100.0, 101.0], "year": [2021.0, 1999.0]})
pyreadstat.write_dta(cal, os.path.join(HERE, "pyreadstat_tb.dta"), variable_format={"bday": "%tbsimple", "year": "%ty"})
expected.write(
    HERE, "pyreadstat_tb.dta", f"{WRITER}(variable_format=%tbsimple, %ty)", "dta", ["bday", "year"],
    [["100", "2021"], ["101", "1999"]],
    warnings=["`bday`: Stata display format %tbsimple is not a date format dh converts"],
)
