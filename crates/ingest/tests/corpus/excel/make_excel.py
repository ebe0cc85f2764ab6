"""Writes the Excel part of the reader corpus with openpyxl and xlsxwriter, and next to each workbook the content it was
told to store (`<file>.expected.json`), as dh's readers must give it back (canonical text: `1`, `12.5`, `2021-03-04`,
`2021-03-04 13:30:15.5`, `13:30:15`, `true`; empty cells ``).

Run from this folder: python3 make_excel.py [FILE...] (needs openpyxl and xlsxwriter; R's openxlsx part is make_excel.R). The
outputs are committed, so the Rust test (crates/ingest/tests/corpus_excel_csv.rs) needs none of these tools.
"""
import datetime as dt
import io
import json
import re
import sys
import zipfile

import openpyxl
import xlsxwriter
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HEADER = ["id", "name", "score", "visit", "when", "at", "flag", "region", "total"]
LABELS = ["Respondent", "Name (any script)", "Score", "Visit date", "Interview start", "Start time", "Consent",
          "Region", "Score x 2"]
ROWS = [
    [1, "Aïcha Ñúñez", 12.5, dt.date(2021, 3, 4), dt.datetime(2021, 3, 4, 13, 30, 15), dt.time(13, 30, 15), True],
    [2, "محمد العلي", 0.25, dt.date(2020, 2, 29), dt.datetime(2021, 3, 4, 0, 0, 0), dt.time(0, 0, 0), False],
    [3, "สมชาย ใจดี", 3, dt.date(1999, 12, 31), dt.datetime(2022, 6, 30, 23, 59, 59, 500000),
     dt.time(10, 20, 30, 900000), True],
    [4, 'Zoë "two\nlines", 中文', -7, dt.date(2023, 1, 1), dt.datetime(2019, 1, 1, 8, 0, 0, 123000),
     dt.time(23, 59, 59), None],
]
REGION = {0: "North", 2: "South"}  # merged over two rows each: the value only in the first row


def text(v):
    """The canonical text dh gives for a value written to a cell."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        out = v.strftime("%Y-%m-%d")
        if v.time() != dt.time(0):
            out += " " + time_text(v.time())
        return out
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return time_text(v)
    return str(v)


def time_text(t):
    out = t.strftime("%H:%M:%S")
    if t.microsecond:
        out += ("." + f"{t.microsecond:06d}").rstrip("0")
    return out


def expected(file, writer, sheet, header_row, skip_rows, columns, formulas_without_value=(), merged=()):
    with open(file + ".expected.json", "w", encoding="utf-8") as f:
        json.dump(
            {
                "file": file,
                "writer": writer,
                "sheet": sheet,
                "header_row": header_row,
                "skip_rows": skip_rows,
                "columns": columns,
                "formulas_without_value": list(formulas_without_value),
                "merged": list(merged),
            },
            f,
            ensure_ascii=False,
            indent=1,
        )
        f.write("\n")


def openpyxl_book(file, epoch_1904):
    """A cover sheet first; on `Data` a cover text (row 1), a blank row, the header (row 3), a label row, the data
    (rows 5-8) from column B, merged region cells, and formulas openpyxl stores without a cached value."""
    wb = openpyxl.Workbook()
    if epoch_1904:
        wb.epoch = CALENDAR_MAC_1904
    cover = wb.active
    cover.title = "Cover"
    cover["A1"] = "Ministry survey — delivery notes"
    cover["A2"] = "The data are on the sheet Data."
    ws = wb.create_sheet("Data")
    ws["A1"] = "Caregiver survey, wave 1 (cover text above the table)"
    ws.merge_cells("A1:D1")
    for c, (h, l) in enumerate(zip(HEADER, LABELS), start=2):
        ws.cell(row=3, column=c, value=h)
        ws.cell(row=4, column=c, value=l)
    formats = {2: "0.00", 3: "yyyy-mm-dd", 4: "yyyy-mm-dd hh:mm:ss.000", 5: "hh:mm:ss"}
    for r, row in enumerate(ROWS, start=5):
        for c, v in enumerate(row, start=2):
            cell = ws.cell(row=r, column=c, value=v)
            if c - 2 in formats:
                cell.number_format = formats[c - 2]
        ws.cell(row=r, column=10, value=f"=D{r}*2")
    for i, region in REGION.items():
        ws.cell(row=5 + i, column=9, value=region)
        ws.merge_cells(start_row=5 + i, start_column=9, end_row=6 + i, end_column=9)
    wb.save(file)
    columns = {h: [] for h in HEADER}
    for i, row in enumerate(ROWS):
        for h, v in zip(HEADER, row):
            columns[h].append(text(v))
        columns["region"].append(REGION.get(i, ""))
        columns["total"].append("")
    expected(
        file,
        f"openpyxl {openpyxl.__version__}" + (" (epoch 1904)" if epoch_1904 else ""),
        "Data",
        3,
        1,
        columns,
        formulas_without_value=[f"J{r}" for r in range(5, 9)],
        merged=["I5:I6", "I7:I8"],
    )


def xlsxwriter_book(file, date_1904):
    """Cover sheet first; on `Data` the header in row 1, a label row, data from row 3; formulas with cached values
    (numbers and text), merged region cells."""
    wb = xlsxwriter.Workbook(file, {"date_1904": date_1904})
    cover = wb.add_worksheet("Cover")
    cover.write("A1", "Ministry survey — delivery notes")
    ws = wb.add_worksheet("Data")
    fmt = {
        3: wb.add_format({"num_format": "yyyy-mm-dd"}),
        4: wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss.000"}),
        5: wb.add_format({"num_format": "hh:mm:ss"}),
    }
    header = HEADER + ["label"]
    for c, h in enumerate(header):
        ws.write_string(0, c, h)
        ws.write_string(1, c, (LABELS + ["Score label"])[c])
    for r, row in enumerate(ROWS, start=2):
        for c, v in enumerate(row):
            if isinstance(v, (dt.date, dt.time)):
                ws.write_datetime(r, c, v, fmt[c])
            elif v is None:
                ws.write_blank(r, c, None)
            else:
                ws.write(r, c, v)
        ws.write_formula(r, 8, f"=C{r + 1}*2", None, row[2] * 2)
        ws.write_formula(r, 9, f'=IF(C{r + 1}>1,"high","low")', None, "high" if row[2] > 1 else "low")
    merge_fmt = wb.add_format({"align": "center"})
    ws.merge_range(2, 7, 3, 7, "North", merge_fmt)
    ws.merge_range(4, 7, 5, 7, "South", merge_fmt)
    wb.close()
    columns = {h: [] for h in header}
    for i, row in enumerate(ROWS):
        for h, v in zip(HEADER, row):
            columns[h].append(text(v))
        columns["region"].append(REGION.get(i, ""))
        columns["total"].append(text(float(row[2] * 2)))
        columns["label"].append("high" if row[2] > 1 else "low")
    expected(
        file,
        f"xlsxwriter {xlsxwriter.__version__}" + (" (date_1904)" if date_1904 else ""),
        "Data",
        1,
        1,
        columns,
        merged=["H3:H4", "H5:H6"],
    )


def leading_blank_book(file):
    """openpyxl writes `<c t="n"><v>41</v></c>`; the sheet XML is then edited to hold `<v> 41</v>` and `<v>13 </v>`,
    as some exporters write (Excel and openpyxl read them as numbers)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["id", "age", "weight"])
    ws.append([1, 41, 2.5])
    ws.append([2, 13, 0.75])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                xml, n1 = re.subn(r'(<c r="B2"[^>]*><v>)41(</v>)', r"\1 41\2", xml)
                xml, n2 = re.subn(r'(<c r="B3"[^>]*><v>)13(</v>)', r"\g<1>13 \2", xml)
                xml, n3 = re.subn(r'(<c r="C3"[^>]*><v>)0.75(</v>)', r"\1\n 0.75\t\2", xml)
                assert (n1, n2, n3) == (1, 1, 1), xml
                data = xml.encode("utf-8")
            out.writestr(item, data)
    expected(
        file,
        f"openpyxl {openpyxl.__version__}, sheet XML edited by make_excel.py",
        "Sheet1",
        1,
        0,
        {"id": ["1", "2"], "age": ["41", "13"], "weight": ["2.5", "0.75"]},
    )


def durations_book(file):
    """Durations (`[h]:mm:ss`, `[mm]:ss`): interview lengths and a time of day stored as a duration, which must read
    as SPSS durations and Excel times of day do (`36:00:00`, `13:30:15`), not as seconds."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["id", "length", "start", "short"])
    values = [
        (1, dt.timedelta(hours=36), dt.time(13, 30, 15), dt.timedelta(minutes=75, seconds=30)),
        (2, dt.timedelta(minutes=45, seconds=30, milliseconds=500), dt.time(0, 0, 0), dt.timedelta(0)),
        (3, None, dt.time(23, 59, 59), dt.timedelta(seconds=59)),
    ]
    for i, length, start, short in values:
        ws.append([i, length, start, short])
    for row in ws.iter_rows(min_row=2):
        row[1].number_format = "[h]:mm:ss"
        row[2].number_format = "[h]:mm:ss"
        row[3].number_format = "[mm]:ss"
    wb.save(file)
    expected(
        file,
        f"openpyxl {openpyxl.__version__}",
        "Data",
        1,
        0,
        {
            "id": ["1", "2", "3"],
            "length": ["36:00:00", "00:45:30.5", ""],
            "start": ["13:30:15", "00:00:00", "23:59:59"],
            "short": ["01:15:30", "00:00:00", "00:00:59"],
        },
    )


BOOKS = {
    "openpyxl_layout.xlsx": lambda f: openpyxl_book(f, False),
    "openpyxl_1904.xlsx": lambda f: openpyxl_book(f, True),
    "xlsxwriter_formulas.xlsx": lambda f: xlsxwriter_book(f, False),
    "xlsxwriter_1904.xlsx": lambda f: xlsxwriter_book(f, True),
    "leading_blank_number.xlsx": leading_blank_book,
    "openpyxl_durations.xlsx": durations_book,
}
# `python3 make_excel.py` writes every workbook; `python3 make_excel.py FILE...` only those named.
for name in sys.argv[1:] or BOOKS:
    BOOKS[name](name)
    print("wrote", name)
