# Writes openxlsx_r.xlsx with R's openxlsx, and openxlsx_r.xlsx.expected.json: what it was told to store, as dh's
# readers must give it back (see make_excel.py). Run from this folder: Rscript make_excel.R (needs openxlsx, jsonlite).
# A notes sheet first; on `Data` the header in row 1, a label row, the data from row 3 (dates, UTC date-times,
# non-ASCII text, logicals with NA), region cells merged over two rows, and formulas written without a cached value.
suppressPackageStartupMessages({
  library(openxlsx)
  library(jsonlite)
})
Sys.setenv(TZ = "UTC")

file <- "openxlsx_r.xlsx"
df <- data.frame(
  id = 1:4,
  name = c("A\u00efcha \u00d1\u00fa\u00f1ez", "\u0645\u062d\u0645\u062f", "\u0e2a\u0e21\u0e0a\u0e32\u0e22",
           "\u4e2d\u6587 \"q\""),
  score = c(12.5, 0.25, 3, -7),
  visit = as.Date(c("2021-03-04", "2020-02-29", "1999-12-31", "2023-01-01")),
  when = as.POSIXct(c("2021-03-04 13:30:15", "2021-03-04 00:00:00", "2022-06-30 23:59:59", "2019-01-01 08:00:00"),
                    tz = "UTC"),
  flag = c(TRUE, FALSE, TRUE, NA),
  region = c("North", NA, "South", NA),
  stringsAsFactors = FALSE
)
header <- c(names(df), "total")
labels <- c("Respondent", "Name", "Score", "Visit date", "Interview start", "Consent", "Region", "Score x 2")

wb <- createWorkbook()
addWorksheet(wb, "Notes")
writeData(wb, "Notes", "Delivery notes: the data are on the sheet Data.", startCol = 1, startRow = 1)
addWorksheet(wb, "Data")
writeData(wb, "Data", as.data.frame(t(header)), startRow = 1, colNames = FALSE)
writeData(wb, "Data", as.data.frame(t(labels)), startRow = 2, colNames = FALSE)
writeData(wb, "Data", df, startRow = 3, colNames = FALSE)
writeFormula(wb, "Data", x = paste0("C", 3:6, "*2"), startCol = 8, startRow = 3)
mergeCells(wb, "Data", cols = 7, rows = 3:4)
mergeCells(wb, "Data", cols = 7, rows = 5:6)
saveWorkbook(wb, file, overwrite = TRUE)

when_text <- ifelse(format(df$when, "%H:%M:%S") == "00:00:00", format(df$when, "%Y-%m-%d"),
                    format(df$when, "%Y-%m-%d %H:%M:%S"))
columns <- list(
  id = as.character(df$id),
  name = df$name,
  score = as.character(df$score),
  visit = format(df$visit, "%Y-%m-%d"),
  when = when_text,
  flag = ifelse(is.na(df$flag), "", ifelse(df$flag, "true", "false")),
  region = ifelse(is.na(df$region), "", df$region),
  total = rep("", 4)
)
expected <- list(
  file = file,
  writer = paste("R", getRversion(), "openxlsx", as.character(packageVersion("openxlsx"))),
  sheet = "Data",
  header_row = 1,
  skip_rows = 1,
  columns = lapply(columns, I),
  formulas_without_value = I(paste0("H", 3:6)),
  merged = I(c("G3:G4", "G5:G6"))
)
writeLines(toJSON(expected, auto_unbox = TRUE, pretty = TRUE), paste0(file, ".expected.json"), useBytes = TRUE)
cat("wrote", file, "\n")
