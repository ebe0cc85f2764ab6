//! `dh-ingest`: Readers for raw deliveries (CSV now; SPSS, Stata, Excel later) behind one interface, yielding raw rows with file and row numbers.
