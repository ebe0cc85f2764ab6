"""Stata corpus files written by pandas `DataFrame.to_stata` (its own writer, not ReadStat): releases 114, 117, 118
and 119, value labels, a strL column (117+), %td/%tc and the period formats %tm/%tq/%tw/%th/%ty (convert_dates), and
byte/int/long/float/double storage.

Run from this folder: python3 make_pandas.py  (pip install pandas). Release 114 and 117 store text in Latin-1, so
their text is Latin-1 only; 118/119 (UTF-8) also hold Arabic and Thai.
"""
import datetime as dt
import os
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import expected  # noqa: E402

WRITER = f"pandas {pd.__version__} to_stata"


def frame(utf8):
    region = ["عمّان", "กรุงเทพฯ", "São Tomé"] if utf8 else ["Amman", "Bangkok", "São Tomé"]
    return pd.DataFrame(
        {
            "id": np.array([1, 2, 3], dtype=np.int8),
            "q1": np.array([1, 2, 1], dtype=np.int8),
            "n_int": np.array([300, -2, 0], dtype=np.int16),
            "n_long": np.array([70000, 1, -70000], dtype=np.int32),
            "n_float": np.array([0.1, 2.5, np.nan], dtype=np.float32),
            "n_double": np.array([12.3456, np.nan, -3.0], dtype=np.float64),
            "region": region,
            "visit": pd.to_datetime(["2021-03-04", "1960-01-01", None]),
            "stamp": pd.to_datetime(["2021-03-04 10:20:30.9", "2021-03-04 00:00:00", "1999-12-31 23:59:59.5"], format="ISO8601"),
            "month": pd.to_datetime(["2021-03-01", "1960-01-01", "1999-12-01"]),
            "quarter": pd.to_datetime(["2021-04-01", "1959-10-01", None]),
            "week": pd.to_datetime(["2021-01-15", "2021-12-30", "1960-01-01"]),
            "half": pd.to_datetime(["2021-07-01", "2020-01-01", None]),
            "year": pd.to_datetime(["2021-01-01", "2019-01-01", "1960-01-01"]),
        }
    )


dates = {"visit": "td", "stamp": "tc", "month": "tm", "quarter": "tq", "week": "tw", "half": "th", "year": "ty"}
header = ["id", "q1", "n_int", "n_long", "n_float", "n_double", "region", "visit", "stamp", "month", "quarter",
          "week", "half", "year"]


def rows(utf8):
    region = ["عمّان", "กรุงเทพฯ", "São Tomé"] if utf8 else ["Amman", "Bangkok", "São Tomé"]
    return [
        ["1", "1", "300", "70000", "0.1", "12.3456", region[0], "2021-03-04", "2021-03-04 10:20:30.9", "2021-03-01",
         "2021-04-01", "2021-01-15", "2021-07-01", "2021"],
        ["2", "2", "-2", "1", "2.5", "", region[1], "1960-01-01", "2021-03-04", "1960-01-01", "1959-10-01",
         # 2021-12-30 is in Stata week 52 of 2021 (weeks 52 run to Dec 31), which starts on Dec 24.
         "2021-12-24", "2020-01-01", "2019"],
        ["3", "1", "0", "-70000", "", "-3", region[2], "", "1999-12-31 23:59:59.5", "1999-12-01", "", "1960-01-01",
         "", "1960"],
    ]


for version in [114, 117, 118, 119]:
    utf8 = version >= 118
    name = f"pandas_{version}.dta"
    df = frame(utf8)
    kwargs = {}
    if version >= 117:
        kwargs["convert_strl"] = ["region"]
    df.to_stata(
        os.path.join(HERE, name),
        write_index=False,
        version=version,
        convert_dates=dates,
        variable_labels={"q1": "Offered money for images?", "region": "Région" if not utf8 else "Région / المنطقة"},
        value_labels={"q1": {1: "Yes", 2: "No"}},
        time_stamp=dt.datetime(2026, 1, 1),
        **kwargs,
    )
    expected.write(
        HERE, name, f"{WRITER}(version={version}" + (", convert_strl=['region'])" if kwargs else ")"), "dta",
        header, rows(utf8),
        variable_labels={"q1": "Offered money for images?", "region": "Région" if not utf8 else "Région / المنطقة"},
        value_labels={"q1": [("1", "Yes"), ("2", "No")]},
        # Releases 114/117 hold Latin-1 text ("São"): not UTF-8, no encoding configured, so dh reads it as
        # windows-1252 and says so (its documented rule for Stata text).
        warnings=[] if utf8 else ["`region`: text is neither UTF-8 nor in a configured encoding; read as windows-1252"],
    )
print("wrote pandas Stata corpus")

# pandas cannot write Stata's extended missing values; this copy of pandas_118.dta has some cells patched to them, one
# storage type each, with Stata's codes (byte .a = 102, int .b = 32743, long .c = 2147483624, float .d = 0x7f002000,
# double .e = 0x7fe0050000000000; "." is 101, 32741, 2147483621, 0x7f000000, 0x7fe0000000000000).
import struct  # noqa: E402

data = bytearray(open(os.path.join(HERE, "pandas_118.dta"), "rb").read())
start = data.index(b"<data>") + len(b"<data>")
widths = [1, 1, 2, 4, 4, 8, 8] + [8] * 7  # id q1 n_int n_long n_float n_double region(strL) + 7 doubles
offsets = [sum(widths[:i]) for i in range(len(widths))]
row = sum(widths)


def put(r, c, fmt, value):
    at = start + r * row + offsets[c]
    data[at:at + struct.calcsize(fmt)] = struct.pack(fmt, value)


put(2, 1, "<b", 102)  # q1, byte: .a
put(2, 2, "<h", 32743)  # n_int, int: .b
put(2, 3, "<i", 2147483624)  # n_long, long: .c
put(1, 4, "<I", 0x7F002000)  # n_float, float: .d
put(1, 5, "<Q", 0x7FE0050000000000)  # n_double, double: .e
open(os.path.join(HERE, "pandas_118_extended.dta"), "wb").write(bytes(data))
ext_rows = rows(True)
ext_rows[2][1], ext_rows[2][2], ext_rows[2][3] = ".a", ".b", ".c"
ext_rows[1][4], ext_rows[1][5] = ".d", ".e"
expected.write(
    HERE, "pandas_118_extended.dta", f"{WRITER}(version=118), cells patched to extended missing values", "dta",
    header, ext_rows,
    variable_labels={"q1": "Offered money for images?", "region": "Région / المنطقة"},
    value_labels={"q1": [("1", "Yes"), ("2", "No")]},
    missing_codes={"q1": [".a"], "n_int": [".b"], "n_long": [".c"], "n_float": [".d"], "n_double": [".e"]},
)
print("wrote pandas_118_extended.dta")
