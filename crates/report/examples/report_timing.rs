//! Times `dh_report::build` at the size of a real run: the shipped catalogue (`pipelines/`) and country configs
//! (`countries/`), one synthetic row per country x indicator x domain level (every flag present), 13 countries.
//! Run from the workspace root: `cargo run --release -p dh-report --example report_timing`.

use std::path::Path;
use std::time::Instant;

use dh_report::fixtures;
use dh_report::table::IndicatorRow;
use dh_report::{ReportContext, build};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schemas = dh_config::load_schemas(Path::new("schemas"))?;
    let countries = dh_config::load_countries(Path::new("countries"), &[])?;
    let (pipeline, catalogue) =
        dh_indicators::load(Path::new("pipelines"), &schemas).map_err(|e| format!("{e:?}"))?;
    let ctx = ReportContext::from_run(&countries, &catalogue, &pipeline);
    // Rows shaped like the stage's: reuse the fixture generator's values, one block per real indicator.
    let template = fixtures::context();
    let sample = fixtures::rows(&template);
    let mut rows: Vec<IndicatorRow> = Vec::new();
    for c in &ctx.countries {
        for (k, def) in ctx.indicators.iter().enumerate() {
            let source = &template.indicators[k % template.indicators.len()].id;
            let block = sample
                .iter()
                .filter(|r| &r.indicator == source)
                .skip_while(|r| !r.is_total())
                .take(8);
            for r in block {
                let mut r = r.clone();
                r.country = c.iso3.clone();
                r.indicator = def.id.clone();
                r.indicator_version = def.version.clone();
                rows.push(r);
            }
        }
    }
    let dir = tempfile::tempdir()?;
    fixtures::write_out_dir(dir.path(), &rows);
    let mut times = Vec::new();
    for _ in 0..5 {
        let clock = Instant::now();
        let built = build(dir.path(), Some(&ctx))?;
        times.push(clock.elapsed().as_secs_f64() * 1000.0);
        assert!(built.pages > ctx.indicators.len());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} countries, {} indicators, {} rows: build {:.1} ms (median of 5; min {:.1}, max {:.1})",
        ctx.countries.len(),
        ctx.indicators.len(),
        rows.len(),
        times[2],
        times[0],
        times[4]
    );
    Ok(())
}
