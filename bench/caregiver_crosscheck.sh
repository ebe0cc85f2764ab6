#!/usr/bin/env bash
# Cross-check of a caregiver indicator against R `survey`: the child design of one country (strata, PSUs nested,
# base weights) raked to the margins its final weights reproduce, then caregiver_would_report_police as a domain
# (children whose caregiver was interviewed) with svyciprop(logit) and svymean, overall and by the child's sex.
# Prints R's numbers beside dh's rows of OUT/indicators/indicators.csv.
# Needs: a finished `dh run` (default OUT=out), python3 with pyarrow and pandas, r-base-core r-cran-survey.
# Usage: bench/caregiver_crosscheck.sh [OUT] [ISO3]
set -euo pipefail
out="${1:-out}"; iso3="${2:-THA}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 - "$out" "$iso3" "$work/data.csv" <<'PY'
import sys
import pyarrow.parquet as pq
out, iso3, dest = sys.argv[1:4]
child = pq.read_table(f"{out}/normalised/child_survey/country={iso3}/part-0.parquet").to_pandas()
carer = pq.read_table(f"{out}/normalised/caregiver_survey/country={iso3}/part-0.parquet").to_pandas()
cols = ["household_id", "stratum", "psu", "base_weight", "final_weight", "sex", "age_band", "urban_rural"]
m = child[cols].merge(carer[["household_id", "caregiver_would_report_police"]], on="household_id",
                      how="left", indicator=True)
m["has_cg"] = (m["_merge"] == "both").astype(int)
# the catalogue's missing_as_no rule: dont_know, refused, not_applicable count as no; null leaves the denominator
code = {"yes": 1, "no": 0, "dont_know": 0, "refused": 0, "not_applicable": 0}
m["y"] = [code.get(v) if isinstance(v, str) else None for v in m["caregiver_would_report_police"].astype(object)]
m.drop(columns=["_merge", "caregiver_would_report_police"]).to_csv(dest, index=False)
PY
Rscript - "$work/data.csv" <<'R' 2>/dev/null
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = FALSE)
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~base_weight, nest = TRUE, data = d)
tab <- function(v) { t <- tapply(d$final_weight, d[[v]], sum); f <- data.frame(names(t), as.numeric(t)); names(f) <- c(v, "Freq"); f }
r <- rake(des, list(~sex, ~age_band, ~urban_rural), list(tab("sex"), tab("age_band"), tab("urban_rural")),
          control = list(maxit = 100, epsilon = 1e-12))
cat(sprintf("R: raked weights differ from dh's final_weight by at most %.1e (relative)\n",
            max(abs(weights(r) - d$final_weight) / d$final_weight)))
show <- function(label, s) {
  cp <- svyciprop(~y, s, method = "logit"); ci <- confint(cp); m <- svymean(~y, s, na.rm = TRUE)
  cat(sprintf("R: %-6s estimate %.15g se %.15g ci %.15g %.15g\n", label, coef(m), SE(m), ci[1], ci[2]))
}
show("total", subset(r, has_cg == 1 & !is.na(y)))
for (s in sort(unique(d$sex))) show(s, subset(r, has_cg == 1 & !is.na(y) & sex == s))
R
grep "^$iso3,caregiver_would_report_police,[^,]*,\(total\|sex\)," "$out/indicators/indicators.csv" |
  awk -F, '{printf "dh: %-6s estimate %s se %s ci %s %s\n", $5, $6, $7, $8, $9}'
