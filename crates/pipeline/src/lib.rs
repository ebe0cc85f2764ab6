//! `dh-pipeline`: Runs the stages (ingest, normalise, write) per country and table in parallel, writes Parquet, quarantine and the manifest.
