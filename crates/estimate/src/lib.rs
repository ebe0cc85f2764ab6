//! `dh-estimate`: The `dh estimate` command as a library: reads a CSV or Parquet table, builds a survey design from options, runs estimates and formats them.
