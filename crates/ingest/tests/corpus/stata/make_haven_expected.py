"""Expected content of the R Stata corpus files (called at the end of make_haven.R with the haven and foreign
versions): the values make_haven.R gave the writers, spelled as dh must render them. Nothing here reads the files."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import expected  # noqa: E402

haven = sys.argv[1] if len(sys.argv) > 1 else "?"
foreign = sys.argv[2] if len(sys.argv) > 2 else "?"
header = ["id", "q1", "region", "visit", "stamp"]
rows = [
    ["1", "1", "عمّان", "2021-03-04", "2021-03-04 10:20:30.9"],
    ["2", "2", "กรุงเทพฯ", "1960-01-01", "2021-03-04"],
    ["3", ".a", "São Tomé", "", ""],
    ["4", ".b", "", "1999-12-31", "1999-12-31 23:59:59.5"],
    ["5", ".c", "x", "2020-02-29", "2020-02-29 12:00:00"],
    ["6", "", "y", "1959-12-31", "1959-12-31 23:59:59"],
]
for version, release in [(15, 119), (13, 117)]:
    expected.write(
        HERE, f"haven_v{version}.dta", f"R haven {haven} write_dta(version = {version}) -> release {release}", "dta",
        header, rows,
        variable_labels={"q1": "Offered money for images?"},
        value_labels={"q1": [("1", "Yes"), ("2", "No"), (".a", "Don't know"), (".b", "Refused"),
                             (".c", "Not applicable")]},
        missing_codes={"q1": [".a", ".b", ".c"]},
    )
expected.write(
    HERE, "foreign_cp1256.dta", f"R foreign {foreign} write.dta(version = 10L) -> release 114, text in windows-1256",
    "dta", ["id", "answer", "region", "score"],
    [["1", "1", "عمّان", "0.5"], ["2", "2", "إربد", ""], ["3", "1", "Zarqa", "-2"]],
    encoding="windows-1256",
    # write.dta stores each column's name as its variable label when the data frame has no "var.labels".
    variable_labels={"id": "id", "answer": "answer", "region": "region", "score": "score"},
    value_labels={"answer": [("1", "Yes"), ("2", "No")]},
)
