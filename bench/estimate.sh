#!/usr/bin/env bash
# Benchmark of `dh estimate` against R `survey` and Python `svy` on one generated file:
# 1,000,000 rows, 500 strata, 10,000 PSUs. Work: mean + SE of y overall and by a 20-level domain,
# and svyciprop(logit) of b. CSV reading is included in every tool's time. Each tool runs under
# /usr/bin/time -v (wall time, peak RSS); the numbers are checked against R's.
# Needs: r-base-core r-cran-survey r-cran-mass (apt), svy (pip), /usr/bin/time (apt: time).
# Usage: bench/estimate.sh [WORKDIR]   (default target/bench-estimate; the data file is kept there)
#        DH=/path/to/dh bench/estimate.sh   uses that binary instead of building target/release/dh
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-target/bench-estimate}"
mkdir -p "$work"
data="$work/estimate_1m.csv"
[ -s "$data" ] || python3 bench/gen_estimate_data.py "$data"
if [ -z "${DH:-}" ]; then
  cargo build --release -q -p dh
  DH="$PWD/target/release/dh"
fi
dh="$DH"
design=(--ids psu --strata stratum --weights weight --nest --format json)

measure() { # name command... ; prints "wall_s rss_kb" into $work/<name>.time
  local name=$1; shift
  /usr/bin/time -v -o "$work/$name.rusage" "$@"
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$work/$name.rusage")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.rusage")
  echo "$wall $rss" > "$work/$name.time"
}

# dh: one invocation, one read of the CSV, the three analyses of bench/estimate_analyses.toml
# (the R and svy scripts also read the file once and run the three on one design object).
measure dh bash -c "'$dh' estimate '$data' ${design[*]} --analyses bench/estimate_analyses.toml > '$work/dh.json'"
measure svy python3 bench/estimate_svy.py "$data" > "$work/svy.json"
measure r Rscript bench/estimate_r.R "$data" > "$work/r.json"

arrow_mb=$(python3 -c "import pyarrow.csv as c; print('%.1f' % (c.read_csv('$data').nbytes / 1e6))" 2>/dev/null || echo "?")
read -r dh_wall dh_rss < "$work/dh.time"
read -r svy_wall svy_rss < "$work/svy.time"
read -r r_wall r_rss < "$work/r.time"
printf '%-5s %10s %12s\n' tool wall_s peak_rss_MB
printf '%-5s %10.2f %12.1f\n' dh "$dh_wall" "$(echo "$dh_rss/1024" | bc -l)"
printf '%-5s %10.2f %12.1f\n' svy "$svy_wall" "$(echo "$svy_rss/1024" | bc -l)"
printf '%-5s %10.2f %12.1f\n' R "$r_wall" "$(echo "$r_rss/1024" | bc -l)"
echo "input: $(du -m "$data" | cut -f1) MB CSV, $arrow_mb MB as Arrow (pyarrow read_csv nbytes)"
echo "speed-up of dh: $(echo "$r_wall/$dh_wall" | bc -l | xargs printf '%.1f')x vs R, $(echo "$svy_wall/$dh_wall" | bc -l | xargs printf '%.1f')x vs svy"
python3 bench/estimate_compare.py "$work/r.json" "$work/svy.json" "$work/dh.json"
