//! `dh-synth`: Synthetic deliveries: a finite population per country, a two-stage cluster sample, raw files in each country's own format, and truth.json.
