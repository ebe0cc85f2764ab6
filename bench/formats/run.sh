#!/usr/bin/env bash
# Format read throughput: dh-ingest (release) against pyreadstat (.sav/.dta), pandas+openpyxl (.xlsx) and DuckDB
# (CSV) on the same files. Needs: pip install pyreadstat openpyxl pandas duckdb.
# Usage: bench/formats/run.sh [DIR] [ROWS] [XLSX_ROWS]   (defaults: /tmp/dh-format-bench 1000000 100000)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/dh-format-bench}
rows=${2:-1000000}
xlsx_rows=${3:-100000}
[ -f "$dir/big.xlsx" ] || python3 bench/formats/gen.py "$dir" "$rows" "$xlsx_rows"
ls -la "$dir"
cargo build --release -p dh-ingest --example read_bench
for f in csv sav zsav dta xlsx; do
  target/release/examples/read_bench "$dir/big.$f" "$f" 3
done
python3 bench/formats/others.py "$dir" 3
