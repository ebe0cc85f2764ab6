# SPSS corpus files written by R haven (ReadStat inside, but R's own types: labelled_spss, Date, POSIXct, hms).
# Run from this folder: Rscript make_haven.R  (install.packages(c("haven", "jsonlite")) or Debian r-cran-haven).
# The expected content is written by ../expected.py from the JSON this script prints (what it told haven to store).
suppressMessages(library(haven))
df <- data.frame(id = c(1, 2, 3, 4))
df$q1 <- labelled_spss(c(1, 2, 8, 9), c(Yes = 1, No = 2, "Don't know" = 8, Refused = 9),
                       na_values = c(8, 9), label = "Offered money for images?")
df$age <- labelled_spss(c(13, 98, 0, NA), na_range = c(97, 99))
df$region <- c("\u0639\u0645\u0651\u0627\u0646", "\u0e01\u0e23\u0e38\u0e07\u0e40\u0e17\u0e1e\u0e2f", "S\u00e3o Tom\u00e9", "")
attr(df$region, "label") <- "R\u00e9gion"
df$visit <- as.Date(c("2021-03-04", "1960-01-01", NA, "1999-12-31"))
df$stamp <- as.POSIXct(c("2021-03-04 10:20:30.9", "2021-03-04 00:00:00", NA, "1999-12-31 23:59:59.5"), tz = "UTC")
df$tod <- hms::hms(seconds = c(13 * 3600 + 30 * 60 + 15, 0, NA, 30 * 3600))
for (c in c("byte", "none", "zsav")) {
  ext <- if (c == "zsav") "zsav" else "sav"
  write_sav(df, sprintf("haven_%s.%s", c, ext), compress = c)
}
system2("python3", c("make_haven_expected.py", as.character(packageVersion("haven"))))
