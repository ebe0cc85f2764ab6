"""Expected content of the R haven SPSS corpus files (called at the end of make_haven.R, with the haven version):
the values make_haven.R gave haven, spelled as dh must render them. Nothing here reads the files back."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import expected  # noqa: E402

WRITER = f"R haven {sys.argv[1]}" if len(sys.argv) > 1 else "R haven"
header = ["id", "q1", "age", "region", "visit", "stamp", "tod"]
rows = [
    ["1", "1", "13", "عمّان", "2021-03-04", "2021-03-04 10:20:30.9", "13:30:15"],
    ["2", "2", "98", "กรุงเทพฯ", "1960-01-01", "2021-03-04", "00:00:00"],
    ["3", "8", "0", "São Tomé", "", "", ""],
    ["4", "9", "", "", "1999-12-31", "1999-12-31 23:59:59.5", "30:00:00"],
]
for name, compress in [("haven_byte.sav", "byte"), ("haven_none.sav", "none"), ("haven_zsav.zsav", "zsav")]:
    expected.write(
        HERE, name, f"{WRITER} write_sav(compress = \"{compress}\")", "sav", header, rows,
        variable_labels={"q1": "Offered money for images?", "region": "Région"},
        value_labels={"q1": [("1", "Yes"), ("2", "No"), ("8", "Don't know"), ("9", "Refused")]},
        missing_codes={"q1": ["8", "9"]},
        missing_ranges={"age": [[97, 99]]},
    )
