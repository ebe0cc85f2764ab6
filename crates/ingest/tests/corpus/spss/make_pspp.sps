* SPSS corpus files written by GNU PSPP (an independent SPSS implementation). Run through make_pspp.sh.
* Syntax is UTF-8; the dataset encoding is UTF-8 (PSPP writes an encoding record saying so).
SET LOCALE='UTF-8'.
DATA LIST LIST /id (F4.0) q1 (F2.0) age (F3.0) income (F8.2) q2 (F2.0) region (A40) visit (DATE11) stamp (DATETIME25.2) tod (TIME11.2) dur (DTIME14.0).
BEGIN DATA
1 1 13 250.5 1 "عمّان" 04-MAR-2021 "04-MAR-2021 10:20:30.90" 13:30:15 "0 00:45:00"
2 2 98 0 2 "กรุงเทพฯ" 01-JAN-1960 "04-MAR-2021 00:00:00" 00:00:00 "1 06:00:00"
3 8 0 -10 . "São Tomé" 31-DEC-1999 "31-DEC-1999 23:59:59.50" 23:59:59.90 "2 00:00:00"
4 9 . . 7 "" . . . .
END DATA.
VARIABLE LABELS q1 'Offered money for images?' /income 'Monthly income' /region 'Région / المنطقة'.
VALUE LABELS q1 1 'Yes' 2 'No' 8 "Don't know" 9 'Refused' /q2 1 'Agree' 2 'Disagree'.
MISSING VALUES q1 (8, 9) /age (97 THRU 99) /income (LO THRU 0) /q2 (LO THRU HI).
SAVE OUTFILE='pspp_uncompressed.sav' /UNCOMPRESSED.
SAVE OUTFILE='pspp_compressed.sav' /COMPRESSED.
SAVE OUTFILE='pspp_zcompressed.zsav' /ZCOMPRESSED.
