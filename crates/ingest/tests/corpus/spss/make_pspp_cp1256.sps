* A PSPP file whose dataset encoding is windows-1256 (Arabic code page): the text is stored in that code page and
* the encoding record says WINDOWS-1256. make_pspp.sh then derives a copy that misstates it as WINDOWS-1252.
SET LOCALE='windows-1256'.
DATA LIST LIST /id (F4.0) region (A20).
BEGIN DATA
1 "عمّان"
2 "إربد"
3 "Zarqa"
END DATA.
VARIABLE LABELS region 'المحافظة'.
VALUE LABELS id 1 'الأول' 2 'الثاني'.
SAVE OUTFILE='pspp_cp1256.sav'.
