#!/usr/bin/env bash
# Cross-check of a caregiver indicator against R `survey`: the child design of one country (strata, PSUs nested,
# base weights) raked to the margins its final weights reproduce, then caregiver_would_report_police with dh's
# caregiver non-response adjustment written as a function of design totals (svycontrast), overall and by the
# child's sex.
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
# the indicator's refused_excluded rule: dont_know and not_applicable count as no; refused and null leave the
# denominator
code = {"yes": 1, "no": 0, "dont_know": 0, "not_applicable": 0}
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
# Caregiver non-response (pipelines/indicators.toml [nonresponse.caregiver_survey]): within each class
# (urban_rural x age_band), children with an interviewed caregiver carry the raked weight of every child of the
# class. The adjusted proportion of a domain is a function of design totals; svycontrast gives its linearised SE,
# which is what dh computes (the adjustment's step on top of the rake's).
d$class <- paste(d$urban_rural, d$age_band, sep = "_")
classes <- sort(unique(d$class))
resp <- tapply(d$has_cg, d$class, sum)
if (any(resp < 30)) cat("R: a class has fewer than 30 respondents; dh pools it, this script does not\n")
obs <- d$has_cg == 1 & !is.na(d$y)
show <- function(label, in_domain) {
  vars <- c()
  for (k in seq_along(classes)) {
    c <- d$class == classes[k]
    r$variables[[paste0("all", k)]] <- as.numeric(c)
    r$variables[[paste0("resp", k)]] <- as.numeric(c & d$has_cg == 1)
    r$variables[[paste0("yes", k)]] <- as.numeric(c & obs & in_domain & d$y %in% 1)
    r$variables[[paste0("base", k)]] <- as.numeric(c & obs & in_domain)
    vars <- c(vars, paste0(c("all", "resp", "yes", "base"), k))
  }
  tot <- svytotal(as.formula(paste("~", paste(vars, collapse = "+"))), r)
  f <- function(w) paste0("all", seq_along(classes), "/resp", seq_along(classes), "*", w, seq_along(classes), collapse = "+")
  est <- svycontrast(tot, parse(text = paste0("(", f("yes"), ")/(", f("base"), ")"))[[1]])
  cat(sprintf("R: %-6s estimate %.15g se %.15g\n", label, coef(est), SE(est)))
}
show("total", rep(TRUE, nrow(d)))
for (s in sort(unique(d$sex))) show(s, d$sex == s)
R
awk -F, -v iso3="$iso3" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $col["country"] == iso3 && $col["indicator"] == "caregiver_would_report_police" &&
  ($col["domain"] == "total" || $col["domain"] == "sex") {
    printf "dh: %-6s estimate %s se %s\n", $col["domain_value"], $col["estimate"], $col["se"] }' \
  "$out/indicators/indicators.csv"
