# Stata corpus files written by R: haven write_dta (ReadStat; extended missing .a-.c labelled through tagged_na)
# and foreign write.dta (R's own writer; old release 114, strings written as the bytes R holds, so text converted
# with iconv to windows-1256 lands in the file in that code page with nothing in the file saying so).
# Run from this folder: Rscript make_haven.R  (Debian r-cran-haven r-cran-foreign). Expected content is written by
# make_haven_expected.py from what this script gave the writers.
suppressMessages(library(haven))
suppressMessages(library(foreign))
q1 <- labelled(c(1, 2, tagged_na("a"), tagged_na("b"), tagged_na("c"), NA),
               c(Yes = 1, No = 2, "Don't know" = tagged_na("a"), Refused = tagged_na("b"),
                 "Not applicable" = tagged_na("c")),
               label = "Offered money for images?")
df <- data.frame(id = 1:6)
df$q1 <- q1
df$region <- c("\u0639\u0645\u0651\u0627\u0646", "\u0e01\u0e23\u0e38\u0e07\u0e40\u0e17\u0e1e\u0e2f", "S\u00e3o Tom\u00e9", "", "x", "y")
df$visit <- as.Date(c("2021-03-04", "1960-01-01", NA, "1999-12-31", "2020-02-29", "1959-12-31"))
df$stamp <- as.POSIXct(c("2021-03-04 10:20:30.9", "2021-03-04 00:00:00", NA, "1999-12-31 23:59:59.5",
                         "2020-02-29 12:00:00", "1959-12-31 23:59:59"), tz = "UTC")
write_dta(df, "haven_v15.dta", version = 15)
write_dta(df, "haven_v13.dta", version = 13)

# foreign: factor -> value labels; windows-1256 text with no declaration (release 114 has no encoding field).
old <- data.frame(id = c(1L, 2L, 3L),
                  answer = factor(c("Yes", "No", "Yes"), levels = c("Yes", "No")),
                  region = c(iconv("\u0639\u0645\u0651\u0627\u0646", "UTF-8", "CP1256"),
                             iconv("\u0625\u0631\u0628\u062f", "UTF-8", "CP1256"), "Zarqa"),
                  score = c(0.5, NA, -2))
write.dta(old, "foreign_cp1256.dta", version = 10L)
system2("python3", c("make_haven_expected.py", as.character(packageVersion("haven")),
                     as.character(packageVersion("foreign"))))
