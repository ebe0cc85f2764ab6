"""Writes a large SPSS .sav for the memory figure of batch_memory.rs: ROWS cases of a survey-like table (ids,
stratum, weight, sex, age, 20 single-choice questions with value labels and a user-missing code, a free-text
region), uncompressed or bytecode-compressed.

Usage: python3 make_big_sav.py OUT.sav ROWS [--compress]
"""

import sys

import numpy as np
import pandas as pd
import pyreadstat


def main() -> None:
    out, rows = sys.argv[1], int(sys.argv[2])
    compress = "--compress" in sys.argv[3:]
    rng = np.random.default_rng(1)
    data = {
        "RESP_ID": np.arange(1, rows + 1, dtype=np.float64),
        "STRATUM": rng.integers(1, 9, rows).astype(np.float64),
        "WT": np.round(rng.uniform(50, 150, rows), 4),
        "SEX": rng.integers(1, 3, rows).astype(np.float64),
        "AGE": rng.integers(12, 18, rows).astype(np.float64),
    }
    for q in range(1, 21):
        data[f"Q{q:02d}"] = rng.choice([1.0, 2.0, 3.0, 9.0], rows)
    data["REGION"] = rng.choice(["North", "South", "East", "West", "Centre"], rows)
    df = pd.DataFrame(data)
    labels = {f"Q{q:02d}": {1: "Yes", 2: "No", 3: "Not sure", 9: "Refused"} for q in range(1, 21)}
    missing = {f"Q{q:02d}": [9] for q in range(1, 21)}
    pyreadstat.write_sav(
        df,
        out,
        variable_value_labels=labels,
        missing_ranges=missing,
        row_compress=compress,
    )


if __name__ == "__main__":
    main()
