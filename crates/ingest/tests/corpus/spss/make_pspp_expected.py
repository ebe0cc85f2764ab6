"""Derives the byte-patched PSPP copies and writes the expected content of every PSPP corpus file (called by
make_pspp.sh after PSPP has run make_pspp.sps and make_pspp_cp1256.sps). The expected cells are those the syntax
gave PSPP (DATA LIST input), spelled as dh must render them; nothing here reads the files back.

Patched copies (older or careless writers, reproduced on a PSPP file):
  pspp_ncases0.sav            header case count (bytes 80-83) set to 0, as some older writers leave it
  pspp_ncases_minus1.sav      same on the bytecode-compressed file, set to -1 ("unknown")
  pspp_cp1256_declared_1252.sav  windows-1256 text whose encoding record is changed to say WINDOWS-1252
  pspp_utf8_declared_ascii.sav   UTF-8 text whose encoding record is changed to say "ascii" (= windows-1252)
"""
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import expected  # noqa: E402

version = subprocess.run(["pspp", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
WRITER = version.strip()


def patch(src, dst, fn):
    data = bytearray(open(os.path.join(HERE, src), "rb").read())
    fn(data)
    open(os.path.join(HERE, dst), "wb").write(bytes(data))


def set_ncases(n):
    def fn(data):
        data[80:84] = struct.pack("<i", n)
    return fn


def replace_once(old, new):
    assert len(old) == len(new)

    def fn(data):
        assert data.count(old) == 1, old
        i = data.find(old)
        data[i:i + len(old)] = new
    return fn


patch("pspp_uncompressed.sav", "pspp_ncases0.sav", set_ncases(0))
patch("pspp_compressed.sav", "pspp_ncases_minus1.sav", set_ncases(-1))
patch("pspp_cp1256.sav", "pspp_cp1256_declared_1252.sav", replace_once(b"WINDOWS-1256", b"WINDOWS-1252"))
patch("pspp_uncompressed.sav", "pspp_utf8_declared_ascii.sav", replace_once(b"\x05\x00\x00\x00UTF-8", b"\x05\x00\x00\x00ascii"))

header = ["id", "q1", "age", "income", "q2", "region", "visit", "stamp", "tod", "dur"]
rows = [
    ["1", "1", "13", "250.5", "1", "عمّان", "2021-03-04", "2021-03-04 10:20:30.9", "13:30:15", "00:45:00"],
    ["2", "2", "98", "0", "2", "กรุงเทพฯ", "1960-01-01", "2021-03-04", "00:00:00", "30:00:00"],
    ["3", "8", "0", "-10", "", "São Tomé", "1999-12-31", "1999-12-31 23:59:59.5", "23:59:59.9", "48:00:00"],
    ["4", "9", "", "", "7", "", "", "", "", ""],
]
labels = dict(
    variable_labels={"q1": "Offered money for images?", "income": "Monthly income", "region": "Région / المنطقة"},
    value_labels={
        "q1": [("1", "Yes"), ("2", "No"), ("8", "Don't know"), ("9", "Refused")],
        "q2": [("1", "Agree"), ("2", "Disagree")],
    },
    missing_codes={"q1": ["8", "9"]},
    missing_ranges={"age": [[97, 99]], "income": [["-inf", 0]], "q2": [["-inf", "inf"]]},
)
for name, note, warnings in [
    ("pspp_uncompressed.sav", "SAVE /UNCOMPRESSED", []),
    ("pspp_compressed.sav", "SAVE /COMPRESSED", []),
    ("pspp_zcompressed.zsav", "SAVE /ZCOMPRESSED", []),
    ("pspp_ncases0.sav", "SAVE /UNCOMPRESSED, header case count patched to 0", ["declares 0 cases"]),
    ("pspp_ncases_minus1.sav", "SAVE /COMPRESSED, header case count patched to -1", []),
    ("pspp_utf8_declared_ascii.sav", "SAVE /UNCOMPRESSED, encoding record patched to say ascii",
     ["`region`: the file declares windows-1252 but the text is UTF-8"]),
]:
    expected.write(HERE, name, f"{WRITER} ({note})", "sav", header, rows, warnings=warnings, **labels)

arabic = dict(
    header=["id", "region"],
    rows=[["1", "عمّان"], ["2", "إربد"], ["3", "Zarqa"]],
    variable_labels={"region": "المحافظة"},
    value_labels={"id": [("1", "الأول"), ("2", "الثاني")]},
)
expected.write(HERE, "pspp_cp1256.sav", f"{WRITER} (SET LOCALE='windows-1256')", "sav", **arabic)
expected.write(HERE, "pspp_cp1256_declared_1252.sav",
               f"{WRITER} (SET LOCALE='windows-1256', encoding record patched to say WINDOWS-1252)", "sav",
               encoding="windows-1256", **arabic)
print("wrote PSPP corpus expectations and patched copies")
