"""Writes the CSV part of the reader corpus with Python's codecs: the same kind of small table in each code page a
delivery may come in, and next to each file the content it was told to store (`<file>.expected.json`). A file holding a
byte that is not a character of its encoding has instead the error dh must give (line and byte offset).

Run from this folder: python3 make_csv.py. The outputs are committed, so the Rust test
(crates/ingest/tests/corpus_excel_csv.rs) needs no Python.
"""
import codecs
import json
import sys

# (file, encoding label as the country config writes it, Python codec, byte-order mark, rows as text). Every text is
# in the script the code page is for; the first row is the header.
CASES = [
    ("windows-1256_arabic.csv", "windows-1256", "cp1256", b"",
     [["id", "name", "governorate"], ["1", "محمد العلي", "عمّان"], ["2", "فاطمة", "إربد"], ["3", "Zoë", "الزرقاء"]]),
    ("iso-8859-6_arabic.csv", "iso-8859-6", "iso8859_6", b"",
     [["id", "name", "governorate"], ["1", "محمد", "عمان"], ["2", "فاطمة، سارة", "اربد"]]),
    ("windows-874_thai.csv", "windows-874", "cp874", b"",
     [["id", "name", "province"], ["1", "สมชาย ใจดี", "เชียงใหม่"], ["2", "นภา", "ขอนแก่น"]]),
    ("windows-1251_cyrillic.csv", "windows-1251", "cp1251", b"",
     [["id", "name", "region"], ["1", "Иван Петров", "Київ"], ["2", "Ёлка «ель»", "Минск"]]),
    ("gb18030_chinese.csv", "gb18030", "gb18030", b"",
     [["id", "name", "province"], ["1", "张伟", "广东省"], ["2", "王芳", "四川省"], ["3", "𠀀 (plane 2)", "€"]]),
    ("shift_jis_japanese.csv", "shift_jis", "shift_jis", b"",
     [["id", "name", "prefecture"], ["1", "山田太郎", "東京都"], ["2", "ｶﾀｶﾅ", "大阪府"]]),
    ("utf-16le_bom.csv", "utf-16le", "utf-16-le", codecs.BOM_UTF16_LE,
     [["id", "name", "region"], ["1", "محمد", "สมชาย"], ["2", "张伟 😀", "Zoë"]]),
    ("utf-16le_nobom.csv", "utf-16le", "utf-16-le", b"",
     [["id", "name", "region"], ["1", "محمد", "สมชาย"], ["2", "张伟 😀", "Zoë"]]),
    ("utf-16be_bom.csv", "utf-16be", "utf-16-be", codecs.BOM_UTF16_BE,
     [["id", "name", "region"], ["1", "محمد", "สมชาย"], ["2", "张伟 😀", "Zoë"]]),
    ("utf-16be_nobom.csv", "utf-16be", "utf-16-be", b"",
     [["id", "name", "region"], ["1", "محمد", "สมชาย"], ["2", "张伟 😀", "Zoë"]]),
]


def csv_text(rows, sep=","):
    def field(v):
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in f'{sep}"\n\r') else v

    return "".join(sep.join(field(v) for v in row) + "\r\n" for row in rows)


def expected(file, **fields):
    with open(file + ".expected.json", "w", encoding="utf-8") as f:
        json.dump({"file": file, "writer": f"Python {sys.version.split()[0]} codecs", **fields}, f, ensure_ascii=False,
                  indent=1)
        f.write("\n")


def columns(rows):
    header, data = rows[0], rows[1:]
    return {h: [r[i] for r in data] for i, h in enumerate(header)}


for file, label, codec, bom, rows in CASES:
    with open(file, "wb") as f:
        f.write(bom + csv_text(rows).encode(codec))
    expected(file, encoding=label, delimiter=",", header_row=1, skip_rows=0, columns=columns(rows))

# A cover text and a blank line above the header, a label row under it (windows-1256, `;`-separated, as an agency
# export from Arabic Excel): header_row = 2 (records: the blank line is not one), skip_rows = 1.
rows = [["id", "name", "gov"], ["الرقم", "الاسم", "المحافظة"], ["1", "محمد", "عمّان"], ["2", "سارة; \"س\"", "إربد"]]
with open("windows-1256_layout.csv", "wb") as f:
    f.write(("مسح مقدمي الرعاية - الجولة الأولى\r\n\r\n" + csv_text(rows, ";")).encode("cp1256"))
expected("windows-1256_layout.csv", encoding="windows-1256", delimiter=";", header_row=2, skip_rows=1,
         columns=columns([rows[0]] + rows[2:]))

# gb18030 with a byte that starts no character (0xFF) on line 3, and shift_jis with a lead byte whose trail byte is
# missing (cut by the end of the file): errors naming line and byte offset (from the start of the file).
head = csv_text([["id", "name"], ["1", "张伟"]]).encode("gb18030")
body = b"2," + b"\xff" + "王芳\r\n".encode("gb18030")
with open("gb18030_bad_byte.csv", "wb") as f:
    f.write(head + body)
expected("gb18030_bad_byte.csv", encoding="gb18030", delimiter=",", header_row=1, skip_rows=0,
         error={"line": 3, "byte_offset": len(head) + 2})
data = csv_text([["id", "name"], ["1", "山田"]]).encode("shift_jis") + b"2,\x93"
with open("shift_jis_cut.csv", "wb") as f:
    f.write(data)
expected("shift_jis_cut.csv", encoding="shift_jis", delimiter=",", header_row=1, skip_rows=0,
         error={"line": 3, "byte_offset": len(data) - 1})
print("wrote", len(CASES) + 3, "CSV files")
