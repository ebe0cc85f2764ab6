"""Shared by the corpus generators: writes the expected-content JSON of one corpus file.

The expected content is what the generator TOLD the writer to store, spelled as dh's readers must render it (ISO
dates, canonical numbers, `.a` for Stata extended missing), never what any reader gives back. Schema (read by
crates/ingest/tests/corpus_spss_stata.rs):
  file, writer, format ("sav" | "dta"), encoding (the delivery's `encoding`), header, rows (cell texts per row),
  variable_labels {var: text}, value_labels {var: [[code, label], ...]}, missing_codes {var: [code, ...]},
  missing_ranges {var: [[lo, hi], ...]} (numbers, or "-inf"/"inf" for SPSS LO/HI), warnings [substring, ...]
  (each expected warning, by a substring; no other warning may appear). Absent keys mean "none".
"""
import json
import os


def write(folder, file, writer, fmt, header, rows, encoding="utf-8", variable_labels=None, value_labels=None,
          missing_codes=None, missing_ranges=None, warnings=None):
    assert all(len(r) == len(header) for r in rows), file
    doc = {
        "file": file,
        "writer": writer,
        "format": fmt,
        "encoding": encoding,
        "header": header,
        "rows": rows,
        "variable_labels": variable_labels or {},
        "value_labels": {k: [[c, l] for c, l in v] for k, v in (value_labels or {}).items()},
        "missing_codes": missing_codes or {},
        "missing_ranges": missing_ranges or {},
        "warnings": warnings or [],
    }
    with open(os.path.join(folder, file + ".json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
