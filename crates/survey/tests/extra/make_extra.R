## make_extra.R -- extra R cases for dh-survey beyond the shared oracle, in the oracle's JSON schema.
## They cover behaviour the oracle does not exercise: a lonely stratum outside a subset (no error in R), ratio
## design effects, factor means by domain, quantiles and svyciprop in subsets (R drops the rows outside the
## subset: nrow, svyglm weights and the score interval's range follow), replicate-design deff, likelihood and
## beta intervals on replicate designs, na.rm with svyby.
## Usage (from this folder): Rscript make_extra.R   -> extra_expected.json (R and survey versions recorded)
suppressPackageStartupMessages(library(survey))
source("../oracle/oracle_lib.R")
options(survey.lonely.psu = "fail", survey.adjust.domain.lonely = FALSE,
        survey.replicates.mse = FALSE, survey.ultimate.cluster = FALSE)
rd <- function(n) read.csv(file.path("../oracle", paste0(n, ".csv")), stringsAsFactors = TRUE)
add_derived <- function(d) {
  d$sch_wide_yes <- as.numeric(d$sch.wide == "Yes"); d$yr_rnd_yes <- as.numeric(d$yr.rnd == "Yes")
  d$awards_yes <- as.numeric(d$awards == "Yes"); d
}
apistrat <- add_derived(rd("apistrat")); apiclus1 <- add_derived(rd("apiclus1")); apiclus2 <- add_derived(rd("apiclus2"))
apiclus1$lstrat <- ifelse(apiclus1$dnum < 300, "A", ifelse(apiclus1$dnum < 800, "B", "C"))
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
tay <- function(dataset, ids, strata = NULL, fpc = NULL, weights = NULL, nest = FALSE)
  list(type = "taylor", dataset = dataset, ids = arr(ids), strata = strata, fpc = arr(fpc),
       weights = weights, probs = NULL, nest = nest)
register_design("dstrat", "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)",
  tay("apistrat", character(0), "stype", "fpc", "pw"))
register_design("dclus1", "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)",
  tay("apiclus1", "dnum", NULL, "fpc", "pw"))
register_design("dclus2", "svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2)",
  tay("apiclus2", c("dnum", "snum"), NULL, c("fpc1", "fpc2"), NULL))
register_design("dstrat2", "svydesign(id=~dnum+snum, strata=~stype, fpc=~fpc1+fpc2, nest=TRUE, data=apiclus2)",
  tay("apiclus2", c("dnum", "snum"), "stype", c("fpc1", "fpc2"), NULL, nest = TRUE))
register_design("dlonely", "svydesign(id=~dnum, strata=~lstrat, weights=~pw, data=apiclus1)",
  tay("apiclus1", "dnum", "lstrat", NULL, "pw"))
register_design("dclus1_ps", "postStratify(dclus1, ~stype, pop.types)",
  list(type = "calibrated", base_design = "dclus1", dataset = "apiclus1", method = "postStratify",
       margins = list(list(variable = "stype", levels = arr(c("E", "H", "M")), totals = arr(c(4421, 755, 1018))))))
register_design("dclus1_jk1", "as.svrepdesign(dclus1, type=\"JK1\")",
  list(type = "replicate", base_design = "dclus1", dataset = "apiclus1", rep_type = "JK1"))

sub <- function(cond) list(type = "subset", condition = cond)
by1 <- function(...) list(type = "svyby", by = arr(c(...)))
for (o in c("fail", "average", "certainty")) {
  run_case(paste0("x_dlonely_", o, "__subset_notC__mean__api00"), "dlonely", "svymean", "api00",
           "svymean(~api00, subset(dlonely, lstrat != \"C\"))", sub("lstrat != \"C\""), lonely = o,
           df_expr = "degf(subset(dlonely, lstrat != \"C\"))")
}
run_case("x_dclus1__ratio__api.stu_enroll__deff", "dclus1", "svyratio", "api.stu/enroll",
         "svyratio(~api.stu, ~enroll, dclus1, deff=TRUE)", options = list(deff = TRUE))
.oracle$cases[["x_dclus1__ratio__api.stu_enroll__deff"]]$expected$deff <-
  arr(as.vector(attr(svyratio(~api.stu, ~enroll, dclus1, deff = TRUE), "deff")))
## extract_svyby assumes one statistic per domain: build this case's expected block by hand (R orders the
## coefficients level-major: No:stypeE, Yes:stypeE, ...)
local({
  r <- svyby(~stype, ~awards, dclus1, svymean)
  df <- degf(dclus1); ct <- confint(r, df = df); cn <- confint(r)
  run_case("x_dclus1__by_awards__mean__stype", "dclus1", "svyby(svymean)", "stype",
           "svymean(~stype, dclus1)", by1("awards"))
  .oracle$cases[["x_dclus1__by_awards__mean__stype"]]$r_code <- "svyby(~stype, ~awards, dclus1, svymean)"
  .oracle$cases[["x_dclus1__by_awards__mean__stype"]]$expected <- list(
    names = arr(names(coef(r))), estimate = arr(unname(coef(r))), se = arr(as.vector(as.matrix(SE(r)))),
    ci_normal = ci_block(cn[, 1], cn[, 2], 0.95, Inf, "Wald, normal quantile (confint default)"),
    ci_t = ci_block(ct[, 1], ct[, 2], 0.95, df, "Wald, t quantile, full-design df"))
})
run_case("x_dstrat__total__stype", "dstrat", "svytotal", "stype", "svytotal(~stype, dstrat)")
run_case("x_dclus2__by_stype__total__enroll", "dclus2", "svyby(svytotal)", "enroll",
         "svyby(~enroll, ~stype, dclus2, svytotal, na.rm=TRUE)", by1("stype"), options = list(na_rm = TRUE), byvars = "stype")
for (it in c("mean", "beta", "score", "xlogit")) {
  run_case(paste0("x_dclus1__subset_stypeM__quantile_", it), "dclus1", "svyquantile", "api00",
           sprintf("svyquantile(~api00, subset(dclus1, stype == \"M\"), quantiles=c(0.25, 0.5), ci=TRUE, interval.type=\"%s\")", it),
           sub("stype == \"M\""), options = list(quantiles = "c(0.25, 0.5)", args = sprintf(", interval.type=\"%s\"", it)),
           df_expr = "degf(subset(dclus1, stype == \"M\"))")
}
run_case("x_dstrat__quantile_hf7_beta", "dstrat", "svyquantile", "api00",
         "svyquantile(~api00, dstrat, quantiles=c(0.1, 0.5, 0.9), ci=TRUE, qrule=\"hf7\", interval.type=\"beta\")",
         options = list(quantiles = "c(0.1, 0.5, 0.9)", args = ", qrule=\"hf7\", interval.type=\"beta\""))
## svyciprop(method="likelihood") on a replicate design gives NA bounds in R (no case; dh-survey refuses it)
for (m in c("likelihood", "beta", "logit", "asin")) {
  run_case(paste0("x_dclus1__subset_stypeH__ciprop_", m), "dclus1", "svyciprop", "sch_wide_yes",
           sprintf("svyciprop(~sch_wide_yes, subset(dclus1, stype == \"H\"), method=\"%s\")", m), sub("stype == \"H\""),
           options = list(method = m), df_expr = "degf(subset(dclus1, stype == \"H\"))")
  if (m != "likelihood")
    run_case(paste0("x_dclus1_jk1__ciprop_", m), "dclus1_jk1", "svyciprop", "sch_wide_yes",
             sprintf("svyciprop(~sch_wide_yes, dclus1_jk1, method=\"%s\")", m), options = list(method = m))
}
run_case("x_dclus1_jk1__by_stype__ciprop_beta", "dclus1_jk1", "svyby(svyciprop)", "sch_wide_yes",
         "svyby(~sch_wide_yes, ~stype, dclus1_jk1, svyciprop, method=\"beta\", vartype=c(\"se\",\"ci\"))",
         by1("stype"), options = list(method = "beta"), byvars = "stype")
run_case("x_dclus1_ps__subset_stypeH__ciprop_beta", "dclus1_ps", "svyciprop", "sch_wide_yes",
         "svyciprop(~sch_wide_yes, subset(dclus1_ps, stype == \"H\"), method=\"beta\")", sub("stype == \"H\""),
         options = list(method = "beta"), df_expr = "degf(subset(dclus1_ps, stype == \"H\"))")
run_case("x_dclus1_jk1__mean__api00__deff", "dclus1_jk1", "svymean", "api00", "svymean(~api00, dclus1_jk1, deff=TRUE)",
         options = list(deff = TRUE))
run_case("x_dclus1_ps__mean__api00__deff", "dclus1_ps", "svymean", "api00", "svymean(~api00, dclus1_ps, deff=\"replace\")",
         options = list(deff = "replace"))
## a stratified two-stage design with fpc at both stages (weights from the fpcs, stage-2 terms, nest=TRUE);
## some (stype, district) cells hold one sampled school of several: lonely at stage 2 (R: error with "fail")
run_case("x_dstrat2_fail__mean__api00", "dstrat2", "svymean", "api00", "svymean(~api00, dstrat2)")
lonely2 <- "certainty"
run_case("x_dstrat2__mean__api00", "dstrat2", "svymean", "api00", "svymean(~api00, dstrat2, deff=TRUE)",
         options = list(deff = TRUE), lonely = lonely2)
## survey >= 4.2 centres a lonely unit at (sum of unit totals)/(number of units) within each onestage() call
## (arma_onestage's Y_means); at stage 2 the call holds one stage-1 unit, so a lonely stage-2 unit contributes
## 0, as with "certainty". survey 4.1-1 (this R) does not centre: expected_survey_4_2 carries the newer value.
run_case("x_dstrat2_adjust__mean__api00", "dstrat2", "svymean", "api00", "svymean(~api00, dstrat2)", lonely = "adjust",
         extra = list(expected_survey_4_2 = list(
           se = arr(local({ o <- options(survey.lonely.psu = "certainty"); on.exit(options(o)); SE(svymean(~api00, dstrat2)) })),
           note = "no stage-1 singleton; at stage 2 the 4.2 centring gives the certainty value")))
run_case("x_dstrat2_average__mean__api00", "dstrat2", "svymean", "api00", "svymean(~api00, dstrat2)", lonely = "average")
run_case("x_dstrat2__total__enroll", "dstrat2", "svytotal", "enroll", "svytotal(~enroll, dstrat2, na.rm=TRUE)",
         options = list(na_rm = TRUE), lonely = lonely2)
run_case("x_dstrat2__by_awards__mean__api00", "dstrat2", "svyby(svymean)", "api00",
         "svyby(~api00, ~awards, dstrat2, svymean)", by1("awards"), byvars = "awards", lonely = lonely2)
for (m in c("logit", "likelihood", "beta", "xlogit"))
  run_case(paste0("x_dstrat2__ciprop_", m), "dstrat2", "svyciprop", "sch_wide_yes",
           sprintf("svyciprop(~sch_wide_yes, dstrat2, method=\"%s\")", m), options = list(method = m), lonely = lonely2)
run_case("x_dstrat2__subset_awardsYes__ciprop_logit", "dstrat2", "svyciprop", "sch_wide_yes",
         "svyciprop(~sch_wide_yes, subset(dstrat2, awards == \"Yes\"), method=\"logit\")", sub("awards == \"Yes\""),
         options = list(method = "logit"), df_expr = "degf(subset(dstrat2, awards == \"Yes\"))", lonely = lonely2)
## Every school with awards is sch.wide "Yes": p = 1 and R's IRLS drifts to a coefficient near 27 (estimate
## 1 - 2.4e-12, interval [1 - 3.7e-12, 1 - 1.6e-12]). dh-survey gives p = 1 with the interval it uses at p = 0 or
## 1 for every method but "mean" (Korn-Graubard with n_eff = n, the unweighted count, scaled by
## (qt(0.025, nrow - 1) / qt(0.025, df))^2 capped at 1: [(0.025)^(1 / n_eff), 1]); computed here from that rule.
local({
  d <- subset(dstrat2, awards == "Yes")
  n <- sum(weights(d) != 0 & !is.na(d$variables$sch_wide_yes))
  ratio <- min(1, (qt(0.025, nrow(d) - 1) / qt(0.025, degf(d)))^2)
  id <- "x_dstrat2__subset_awardsYes__ciprop_logit"
  .oracle$cases[[id]]$dh_expected <- list(estimate = arr(1),
    ci = list(lower = arr(0.025^(1 / (n * ratio))), upper = arr(1)))
  .oracle$cases[[id]]$dh_note <- paste("R's estimate and interval come from a diverged fit at p = 1;",
    "dh_expected holds the boundary interval dh-survey gives (clopper-pearson, n_eff = n)")
})
run_case("x_dstrat2__quantile", "dstrat2", "svyquantile", "api00",
         "svyquantile(~api00, dstrat2, quantiles=c(0.25, 0.5, 0.75), ci=TRUE)",
         options = list(quantiles = "c(0.25, 0.5, 0.75)", args = ""), lonely = lonely2)
run_case("x_dstrat2__ratio", "dstrat2", "svyratio", "api.stu/enroll", "svyratio(~api.stu, ~enroll, dstrat2, na.rm=TRUE)",
         options = list(na_rm = TRUE), lonely = lonely2)
## ---- a larger synthetic design: 25 strata, 2 to 8 PSUs each, unequal cluster sizes and weights, fpc,
## a rare binary indicator, a 6-level domain variable (written to synthetic.csv, re-read as the harness reads it)
set.seed(20261128)
syn <- do.call(rbind, lapply(1:25, function(h) {
  k <- sample(2:8, 1)
  do.call(rbind, lapply(1:k, function(j) {
    m <- sample(3:40, 1)
    data.frame(stratum = sprintf("s%02d", h), psu = j, N_h = k * sample(5:30, 1),
               w = round(runif(m, 20, 200), 3) * (1 + h / 10), y = round(rlnorm(m, 3 + h / 25, 0.6), 2),
               z = round(runif(m, 1, 5), 2), b = as.numeric(runif(m) < 0.08 + 0.004 * h),
               dom = sprintf("d%d", sample(1:6, m, replace = TRUE, prob = c(3, 2, 2, 1, 1, 0.5))))
  }))
}))
syn$N_h <- ave(syn$N_h, syn$stratum, FUN = function(v) v[1])
write.csv(syn, "synthetic.csv", row.names = FALSE)
synthetic <- read.csv("synthetic.csv", stringsAsFactors = TRUE)
register_design("dsyn", "svydesign(id=~psu, strata=~stratum, weights=~w, nest=TRUE, data=synthetic)",
  tay("synthetic", "psu", "stratum", NULL, "w", nest = TRUE))
register_design("dsyn_fpc", "svydesign(id=~psu, strata=~stratum, weights=~w, fpc=~N_h, nest=TRUE, data=synthetic)",
  tay("synthetic", "psu", "stratum", "N_h", "w", nest = TRUE))
for (d in c("dsyn", "dsyn_fpc")) {
  run_case(paste0("x_", d, "__mean__y"), d, "svymean", "y", sprintf("svymean(~y, %s, deff=TRUE)", d),
           options = list(deff = TRUE))
  run_case(paste0("x_", d, "__total__y"), d, "svytotal", "y", sprintf("svytotal(~y, %s, deff=\"replace\")", d),
           options = list(deff = "replace"))
  run_case(paste0("x_", d, "__mean__dom"), d, "svymean", "dom", sprintf("svymean(~dom, %s)", d))
  run_case(paste0("x_", d, "__ratio__y_z"), d, "svyratio", "y/z", sprintf("svyratio(~y, ~z, %s)", d))
  run_case(paste0("x_", d, "__by_dom__mean__y"), d, "svyby(svymean)", "y",
           sprintf("svyby(~y, ~dom, %s, svymean)", d), by1("dom"), byvars = "dom")
  for (m in c("logit", "likelihood", "beta", "xlogit", "asin", "mean"))
    run_case(paste0("x_", d, "__ciprop_", m, "__b"), d, "svyciprop", "b",
             sprintf("svyciprop(~b, %s, method=\"%s\")", d, m), options = list(method = m))
  for (m in c("logit", "beta"))
    run_case(paste0("x_", d, "__by_dom__ciprop_", m, "__b"), d, "svyby(svyciprop)", "b",
             sprintf("svyby(~b, ~dom, %s, svyciprop, method=\"%s\", vartype=c(\"se\",\"ci\"))", d, m),
             by1("dom"), options = list(method = m), byvars = "dom")
  run_case(paste0("x_", d, "__subset_d4__ciprop_beta__b"), d, "svyciprop", "b",
           sprintf("svyciprop(~b, subset(%s, dom == \"d4\"), method=\"beta\")", d), sub("dom == \"d4\""),
           options = list(method = "beta"), df_expr = sprintf("degf(subset(%s, dom == \"d4\"))", d))
  run_case(paste0("x_", d, "__quantile__y"), d, "svyquantile", "y",
           sprintf("svyquantile(~y, %s, quantiles=c(0.1, 0.5, 0.9), ci=TRUE)", d),
           options = list(quantiles = "c(0.1, 0.5, 0.9)", args = ""))
}
## replicate and calibrated versions of the synthetic design
register_design("dsyn_jkn", "as.svrepdesign(dsyn_fpc, type=\"JKn\")",
  list(type = "replicate", base_design = "dsyn_fpc", dataset = "synthetic", rep_type = "JKn"))
pop.dom <- data.frame(dom = paste0("d", 1:6), Freq = c(90000, 60000, 60000, 30000, 30000, 15000))
register_design("dsyn_ps", "postStratify(dsyn, ~dom, pop.dom)",
  list(type = "calibrated", base_design = "dsyn", dataset = "synthetic", method = "postStratify",
       margins = list(list(variable = "dom", levels = arr(paste0("d", 1:6)),
                           totals = arr(c(90000, 60000, 60000, 30000, 30000, 15000))))))
for (d in c("dsyn_jkn", "dsyn_ps")) {
  run_case(paste0("x_", d, "__mean__y"), d, "svymean", "y", sprintf("svymean(~y, %s)", d))
  run_case(paste0("x_", d, "__by_dom__total__y"), d, "svyby(svytotal)", "y",
           sprintf("svyby(~y, ~dom, %s, svytotal)", d), by1("dom"), byvars = "dom")
  run_case(paste0("x_", d, "__ciprop_logit__b"), d, "svyciprop", "b",
           sprintf("svyciprop(~b, %s, method=\"logit\")", d), options = list(method = "logit"))
  run_case(paste0("x_", d, "__by_dom__ciprop_beta__b"), d, "svyby(svyciprop)", "b",
           sprintf("svyby(~b, ~dom, %s, svyciprop, method=\"beta\", vartype=c(\"se\",\"ci\"))", d),
           by1("dom"), options = list(method = "beta"), byvars = "dom")
  run_case(paste0("x_", d, "__quantile__y"), d, "svyquantile", "y",
           sprintf("svyquantile(~y, %s, quantiles=0.5, ci=TRUE)", d), options = list(quantiles = "0.5", args = ""))
}
run_case("x_dsyn_jkn__quantile_q__y", "dsyn_jkn", "svyquantile", "y",
         "svyquantile(~y, dsyn_jkn, quantiles=c(0.25, 0.75), ci=TRUE, interval.type=\"quantile\")",
         options = list(quantiles = "c(0.25, 0.75)", args = ", interval.type=\"quantile\""))
datasets <- list(synthetic = list(file = "synthetic.csv", n_rows = nrow(synthetic)))
out <- list(schema_version = 1,
  generator = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey")),
                   script = "make_extra.R (+ ../oracle/oracle_lib.R)"),
  datasets = datasets, designs = .oracle$designs, cases = unname(.oracle$cases))
write_json_file(out, "extra_expected.json")
cat("wrote", length(.oracle$cases), "cases\n")
