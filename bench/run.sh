#!/usr/bin/env bash
# Benchmark of `dh run` (not a timed test): builds the release binary, generates synthetic deliveries for every
# configured country at scale 1 and at a larger scale (default 100), runs the pipeline on each, and reports wall
# time, rows/s and peak memory (maximum resident set size from /usr/bin/time -v). It also runs a single country at
# the large scale, to show that peak memory follows the countries held per worker, not the country count.
#
# Usage: bench/run.sh [SCALE_LARGE] [JOBS]     (run from the repository root; DH=/path/to/dh skips the build)
# Needs: /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

LARGE="${1:-100}"
JOBS="${2:-$(nproc)}"
WORK="${BENCH_DIR:-target/bench}"
export DH_PSEUDONYM_KEY="${DH_PSEUDONYM_KEY:-bench-key-not-secret-0123456789abcdef}"

if [ ! -x /usr/bin/time ]; then
  echo "bench: /usr/bin/time not found; install it (apt-get install time)" >&2
  exit 1
fi

# DH=/path/to/dh skips the build and benchmarks that binary.
if [ -z "${DH:-}" ]; then
  cargo build --release --locked -p dh >&2
  DH="${CARGO_TARGET_DIR:-target}/release/dh"
fi
mkdir -p "$WORK"

# Prints: label, wall seconds, rows read, rows/s, peak RSS MiB.
measure() {
  local label="$1"; shift
  local out="$1"; shift
  local log="$WORK/$label.time"
  /usr/bin/time -v "$DH" run --quiet --out-dir "$out" "$@" 2>"$log" >/dev/null || {
    echo "bench: run $label failed; see $log" >&2; cat "$log" >&2; exit 1; }
  local wall rss rows
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  rows=$(grep -m1 '"rows_read"' <(sed -n '/"totals"/,$p' "$out/manifest.json") | tr -dc '0-9')
  awk -v l="$label" -v w="$wall" -v r="$rows" -v m="$rss" \
    'BEGIN { printf "%-28s wall %7.2f s   rows %9d   %11.0f rows/s   peak RSS %7.1f MiB\n", l, w, r, (w > 0 ? r / w : 0), m / 1024 }'
}

# Synthetic data are cached per scale and regenerated when countries/ or schemas/ change.
CONFIG_HASH=$(cat countries/* schemas/* | sha256sum | cut -c1-16)
for SCALE in 1 "$LARGE"; do
  RAW="$WORK/raw-scale-$SCALE"
  if [ "$(cat "$RAW/.complete" 2>/dev/null)" != "$CONFIG_HASH" ]; then
    rm -rf "$RAW"
    "$DH" synth --out "$RAW" --scale "$SCALE" >&2
    echo "$CONFIG_HASH" > "$RAW/.complete"
  fi
  measure "scale-$SCALE-all-jobs-$JOBS" "$WORK/out-$SCALE" --raw-dir "$RAW" --jobs "$JOBS"
  measure "scale-$SCALE-all-jobs-1" "$WORK/out-$SCALE-j1" --raw-dir "$RAW" --jobs 1
  measure "scale-$SCALE-THA-jobs-1" "$WORK/out-$SCALE-tha" --raw-dir "$RAW" --jobs 1 --countries THA
done
