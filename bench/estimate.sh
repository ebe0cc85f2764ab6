#!/usr/bin/env bash
# Benchmark of `dh estimate` against R `survey` and Python `svy` on one generated design (1,000,000 rows,
# 500 strata, 10,000 PSUs): builds the release binary and runs `dh bench estimate` with the given flags
# (`dh bench estimate --help`). Peers, if wanted: apt-get install r-base-core r-cran-survey time; pip install svy.
# Usage: bench/estimate.sh [--work DIR] [--rows N --strata H --psus P] [--no-r] [--no-svy]
#        DH=/path/to/dh bench/estimate.sh   uses that binary instead of building target/release/dh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DH:-}" ]; then
  cargo build --release --locked -q -p dh
  DH="${CARGO_TARGET_DIR:-$PWD/target}/release/dh"
fi
exec "$DH" bench estimate "$@"
