#!/bin/sh
# SPSS corpus files written by GNU PSPP (tested with 1.6.2): run from this folder, `sh make_pspp.sh`.
# Writes the .sav/.zsav files from make_pspp.sps and make_pspp_cp1256.sps, derives the byte-patched copies described
# in README.md (case count 0 / -1 in the header; a misstated or UTF-8-holding encoding record), and the expected
# content JSON of each (make_pspp_expected.py, from what the syntax told PSPP to store).
set -e
cd "$(dirname "$0")"
pspp make_pspp.sps > /dev/null
pspp make_pspp_cp1256.sps > /dev/null
python3 make_pspp_expected.py
