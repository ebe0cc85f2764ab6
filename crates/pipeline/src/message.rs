//! The cap on every message the pipeline stores or prints (manifest, run log, report, stderr, JSON log,
//! `dh validate`): [`dh_ingest::message`], re-exported so the command line applies the same rule.

pub use dh_ingest::message::{MAX_MESSAGE_CHARS, cap};
