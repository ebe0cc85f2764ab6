//! `dh-normalise`: Maps raw rows through a country config onto harmonised schemas: code translation, validation, quarantine, pseudonymisation, Arrow batches.
