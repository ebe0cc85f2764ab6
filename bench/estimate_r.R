# The `dh estimate` benchmark work in R `survey`: read the CSV, declare the design (strata, PSUs
# nested in strata, weights), then mean + SE of y overall and by the 20-level domain, and the logit
# interval of the proportion b (svyciprop). Prints one JSON object (numbers as %.17g) and the
# seconds spent per step on stderr. Usage: Rscript estimate_r.R DATA.csv
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(survey))
num <- function(x) sprintf("%.17g", x)
t0 <- proc.time()[["elapsed"]]
df <- read.csv(args[1])
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = df)
t1 <- proc.time()[["elapsed"]]
m <- svymean(~y, des)
t2 <- proc.time()[["elapsed"]]
b <- svyby(~y, ~domain, des, svymean)
t3 <- proc.time()[["elapsed"]]
cp <- svyciprop(~b, des, method = "logit")
t4 <- proc.time()[["elapsed"]]
ci <- confint(cp)
by_rows <- sprintf("{\"domain\": \"%s\", \"estimate\": %s, \"se\": %s}",
                   as.character(b$domain), num(coef(b)), num(SE(b)))
cat(sprintf("{\"mean\": {\"estimate\": %s, \"se\": %s}, \"by\": [%s], \"ciprop\": {\"estimate\": %s, \"se\": %s, \"lower\": %s, \"upper\": %s}}\n",
            num(coef(m)), num(SE(m)), paste(by_rows, collapse = ", "),
            num(coef(cp)), num(sqrt(attr(cp, "var"))), num(ci[1]), num(ci[2])))
cat(sprintf("R seconds: read+design %.3f, mean %.3f, by %.3f, ciprop %.3f\n",
            t1 - t0, t2 - t1, t3 - t2, t4 - t3), file = stderr())
