//! Means, totals and svyciprop on calibrated designs, one domain at a time over that domain's rows only
//! (`DomainRows`): the point estimate, the counts, the design effect and the degrees of freedom come from the
//! domain's rows, and only the variance touches every row (the residualisation spreads a domain's influence
//! values over all rows). Every sum adds the same terms in the same order as the row-level path of
//! `estimator.rs` / `linear.rs` / `ciprop.rs` (a mask over all rows, rows outside it skipped), so the results are
//! bit-identical to it; what is saved is the mask building and the passes over rows outside the domain.
//! `Calibrated::kernels` takes the disjoint domains of one call together: their residual PSU totals come from one
//! pass over the rows when the residualisation offers it (`Residualise::residual_unit_totals_disjoint`).

use crate::design::Design;
use crate::domain::DomainRows;
use crate::error::SurveyError;
use crate::estimator::{Deff, Residualise, SurveyDesign, VarianceKind};
use crate::linear::deff_value;

/// A mean or total of one column in one domain, with what its estimate rows need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DomainKernel {
    pub estimate: f64,
    pub variance: f64,
    /// Rows of the domain with a value and a non-zero weight, and the sum of their weights (R's counts).
    pub n_nonzero: usize,
    pub sum_w_nonzero: f64,
    /// The design effect, when asked for.
    pub deff: Option<f64>,
}

/// The sums of one domain's rows behind its kernel.
struct KernelSums {
    estimate: f64,
    total: bool,
    /// Weight and weighted sums from 0.0 (mean, design effect).
    sw: f64,
    swx: f64,
    /// Weight sum from -0.0 (the influence values of a mean).
    sum_w: f64,
    n_nonzero: usize,
    sum_w_nonzero: f64,
}

/// The parts of a calibrated design the domain kernels use.
pub(crate) struct Calibrated<'a> {
    pub survey: &'a SurveyDesign,
    pub design: &'a Design,
    pub calibration: &'a dyn Residualise,
}

impl Calibrated<'_> {
    /// Mean (`total` false) or total of `x` over the rows of `rows` where `missing(i)` is false: the same
    /// numbers as `Kernel::point`, `kernel_variance`, `counts` and `deff` on the domain's mask.
    /// `buf` is scratch space of one value per row of the design, all zeros between calls (start with an empty
    /// `Vec`).
    pub fn kernel(
        &self,
        rows: &[u32],
        x: &[f64],
        missing: impl Fn(usize) -> bool,
        total: bool,
        deff: Deff,
        buf: &mut Vec<f64>,
    ) -> Result<DomainKernel, SurveyError> {
        let sums = self.sums(rows, x, &missing, total);
        self.influence(&sums, rows, x, &missing, buf);
        let variance = self.variance(buf, rows)?;
        Ok(self.finish(&sums, variance, rows, x, &missing, deff))
    }

    /// [`Calibrated::kernel`] of every domain of `domains` (`domain_of_row` gives each row's domain, as
    /// `DomainSet::domain_of_row`): the same results, with the residual PSU totals of all domains from one pass
    /// over the rows when the residualisation has that shortcut. `buf` as for [`Calibrated::kernel`].
    pub fn kernels(
        &self,
        domains: &DomainRows,
        domain_of_row: &[u32],
        x: &[f64],
        missing: impl Fn(usize) -> bool,
        (total, deff): (bool, Deff),
        buf: &mut Vec<f64>,
    ) -> Result<Vec<DomainKernel>, SurveyError> {
        let supports: Vec<&[u32]> = (0..domains.n_domains()).map(|d| domains.of(d)).collect();
        let sums: Vec<KernelSums> = supports
            .iter()
            .map(|rows| self.sums(rows, x, &missing, total))
            .collect();
        for (s, rows) in sums.iter().zip(&supports) {
            self.influence(s, rows, x, &missing, buf);
        }
        let design = self.design;
        let totals = if design.only_stage1() {
            self.calibration.residual_unit_totals_disjoint(
                buf,
                &supports,
                domain_of_row,
                (design.psu_of_row(), design.n_psu()),
            )
        } else {
            None
        };
        for rows in &supports {
            for &i in *rows {
                buf[i as usize] = 0.0;
            }
        }
        let Some(totals) = totals else {
            return supports
                .iter()
                .map(|rows| self.kernel(rows, x, &missing, total, deff, buf))
                .collect();
        };
        let mut out = Vec::with_capacity(supports.len());
        for ((s, rows), t) in sums.iter().zip(&supports).zip(&totals) {
            let variance = design.stage1_variance(t, None)?;
            out.push(self.finish(s, variance, rows, x, &missing, deff));
        }
        Ok(out)
    }

    /// The point estimate and counts of a domain's rows.
    fn sums(
        &self,
        rows: &[u32],
        x: &[f64],
        missing: &impl Fn(usize) -> bool,
        total: bool,
    ) -> KernelSums {
        let w = self.survey.weights();
        // `Kernel::point` (mean) and `deff`: loops from 0.0; `Kernel::point` (total) and the weight sum of
        // `kernel_variance`: `Iterator::sum`, which starts from -0.0.
        let (mut sw, mut swx) = (0.0, 0.0);
        let (mut sum_w, mut sum_wx) = (-0.0f64, -0.0f64);
        let (mut n_nonzero, mut sum_w_nonzero) = (0usize, 0.0);
        for &i in rows {
            let i = i as usize;
            if missing(i) {
                continue;
            }
            let (wi, xi) = (w[i], x[i]);
            sw += wi;
            swx += wi * xi;
            sum_w += wi;
            sum_wx += wi * xi;
            if wi != 0.0 {
                n_nonzero += 1;
                sum_w_nonzero += wi;
            }
        }
        KernelSums {
            estimate: if total { sum_wx } else { swx / sw },
            total,
            sw,
            swx,
            sum_w,
            n_nonzero,
            sum_w_nonzero,
        }
    }

    /// Writes the influence values of a domain's rows into `buf` (resized to the design's rows, zeros
    /// elsewhere).
    fn influence(
        &self,
        s: &KernelSums,
        rows: &[u32],
        x: &[f64],
        missing: &impl Fn(usize) -> bool,
        buf: &mut Vec<f64>,
    ) {
        let w = self.survey.weights();
        if buf.len() != w.len() {
            buf.clear();
            buf.resize(w.len(), 0.0);
        }
        for &i in rows {
            let i = i as usize;
            if missing(i) {
                continue;
            }
            buf[i] = if s.total {
                w[i] * x[i]
            } else {
                w[i] * (x[i] - s.estimate) / s.sum_w
            };
        }
    }

    /// The kernel of a domain from its sums and variance (the design effect when asked for).
    fn finish(
        &self,
        s: &KernelSums,
        variance: f64,
        rows: &[u32],
        x: &[f64],
        missing: &impl Fn(usize) -> bool,
        deff: Deff,
    ) -> DomainKernel {
        let w = self.survey.weights();
        let deff = (deff != Deff::None).then(|| {
            let xbar = s.swx / s.sw;
            let mut ss = 0.0;
            for &i in rows {
                let i = i as usize;
                if !missing(i) {
                    ss += w[i] * (x[i] - xbar) * (x[i] - xbar);
                }
            }
            deff_value(variance, ss, s.sw, s.n_nonzero, s.total, deff)
        });
        DomainKernel {
            estimate: s.estimate,
            variance,
            n_nonzero: s.n_nonzero,
            sum_w_nonzero: s.sum_w_nonzero,
            deff,
        }
    }

    /// The Taylor variance of the residualised influence values `z` (zero outside `rows`); `z` is all zeros
    /// again on return, whatever the result. With only a first stage and a residualisation that gives its PSU
    /// totals directly, `z` is never residualised in place (`taylor_variance` of the residuals is the first-stage
    /// term of their PSU totals).
    fn variance(&self, z: &mut [f64], rows: &[u32]) -> Result<f64, SurveyError> {
        let design = self.design;
        let totals = if design.only_stage1() {
            self.calibration
                .residual_unit_totals(z, rows, design.psu_of_row(), design.n_psu())
        } else {
            None
        };
        match totals {
            Some(totals) => {
                for &i in rows {
                    z[i as usize] = 0.0;
                }
                design.stage1_variance(&totals, None)
            }
            None => {
                self.calibration.residualise_supported(z, rows);
                let v = design.taylor_variance(z, None);
                z.fill(0.0);
                v
            }
        }
    }

    /// R's `degf()` of the design restricted to the rows of a domain.
    pub fn degf(&self, rows: &[u32]) -> usize {
        self.design.degf_for_rows(self.survey.weights(), rows)
    }
}

impl SurveyDesign {
    /// The design and residualisation of a calibrated design (`None` for Taylor and replicate designs).
    pub(crate) fn calibrated_parts(&self) -> Option<Calibrated<'_>> {
        match &self.kind {
            VarianceKind::Calibrated {
                design,
                calibration,
            } => Some(Calibrated {
                survey: self,
                design,
                calibration: calibration.as_ref(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::{FactorMargin, RakeControl, rake};
    use crate::ciprop::CipropMethod;
    use crate::design::{DesignSpec, Factor, NA_CODE, WeightSpec};
    use crate::domain::{DomainSet, DomainSpec};
    use crate::estimator::{Kernel, Options, Variable};
    use crate::lonely::LonelyPsu;

    /// A raked design of 2 x 3 x 2 margins over strata and PSUs (one lonely PSU), with the weights of some rows
    /// set to 0 afterwards (like non-respondents of a linked table), and columns to estimate.
    struct Fixture {
        design: SurveyDesign,
        y: Vec<f64>,
        x: Vec<f64>,
        age: Vec<u32>,
        area: Vec<u32>,
        subset: Vec<bool>,
    }

    const N: usize = 301;

    fn fixture() -> Fixture {
        let psu: Vec<u32> = (0..N as u32).map(|i| i / 7).collect();
        let strata: Vec<u32> = psu.iter().map(|p| (p / 5).min(8)).collect();
        let strata_labels: Vec<String> = (0..9).map(|s| format!("s{s}")).collect();
        // few distinct base weights, so that the raking residualisation groups rows into cells
        let w: Vec<f64> = (0..N).map(|i| 17.0 + ((i * 37) % 5) as f64 / 3.0).collect();
        let sex: Vec<u32> = (0..N as u32).map(|i| (i * 7 / 3) % 2).collect();
        let age: Vec<u32> = (0..N as u32).map(|i| (i / 2) % 3).collect();
        let area: Vec<u32> = (0..N as u32).map(|i| u32::from(i % 5 < 2)).collect();
        let (sex_l, age_l, area_l) = (
            vec!["F".to_string(), "M".to_string()],
            vec!["a".to_string(), "b".to_string(), "c".to_string()],
            vec!["u".to_string(), "r".to_string()],
        );
        let spec = DesignSpec {
            ids: vec![&psu],
            strata: Some(Factor {
                codes: &strata,
                labels: &strata_labels,
            }),
            fpc: vec![],
            weights: WeightSpec::Weights(&w),
            nest: true,
            lonely_psu: LonelyPsu::Adjust,
        };
        let base = SurveyDesign::taylor(&spec).unwrap();
        let margin = |variable, codes, labels, totals| FactorMargin {
            variable,
            factor: Factor { codes, labels },
            levels: labels,
            totals,
        };
        let margins = [
            margin("sex", &sex, &sex_l, &[5200.0, 4800.0][..]),
            margin("age", &age, &age_l, &[3000.0, 3500.0, 3500.0][..]),
            margin("area", &area, &area_l, &[6000.0, 4000.0][..]),
        ];
        let raked = rake(&w, &margins, RakeControl::default()).unwrap();
        let weights: Vec<f64> = raked
            .weights
            .iter()
            .enumerate()
            .map(|(i, &w)| if i % 11 == 4 { 0.0 } else { w })
            .collect();
        let design = SurveyDesign::calibrated(
            base.taylor_design().unwrap(),
            weights,
            Box::new(raked.calibration),
        )
        .unwrap();
        let y = (0..N)
            .map(|i| match (i * 13) % 7 {
                0 | 3 => 1.0,
                5 if i % 2 == 0 => f64::NAN,
                _ => 0.0,
            })
            .collect();
        let x = (0..N)
            .map(|i| {
                if i % 9 == 2 {
                    f64::NAN
                } else {
                    ((i * 31) % 17) as f64 - 4.5
                }
            })
            .collect();
        let mut age = age;
        age[10] = NA_CODE;
        let subset = (0..N).map(|i| i % 6 != 1).collect();
        Fixture {
            design,
            y,
            x,
            age,
            area,
            subset,
        }
    }

    fn labels() -> (Vec<String>, Vec<String>) {
        (
            vec!["a".to_string(), "b".to_string(), "c".to_string()],
            vec!["u".to_string(), "r".to_string()],
        )
    }

    /// Exact comparison of floats, NaN and the sign of zero included.
    fn bits(x: f64) -> u64 {
        x.to_bits()
    }

    #[test]
    fn domain_kernels_equal_the_row_level_computation_bit_for_bit() {
        let f = fixture();
        let (age_l, area_l) = labels();
        let cal = f.design.calibrated_parts().unwrap();
        let specs = [
            DomainSpec::default(),
            DomainSpec {
                subset: Some(&f.subset),
                by: vec![],
            },
            DomainSpec {
                subset: Some(&f.subset),
                by: vec![Factor {
                    codes: &f.age,
                    labels: &age_l,
                }],
            },
            DomainSpec {
                subset: None,
                by: vec![
                    Factor {
                        codes: &f.age,
                        labels: &age_l,
                    },
                    Factor {
                        codes: &f.area,
                        labels: &area_l,
                    },
                ],
            },
        ];
        let mut checked = 0;
        for spec in &specs {
            let set = DomainSet::new(spec, f.design.weights()).unwrap();
            let rows = set.rows_by_domain();
            let (mut mask, mut dom_mask, mut buf, mut buf2) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for col in [&f.y, &f.x] {
                let missing = |i: usize| col[i].is_nan();
                for total in [false, true] {
                    for deff in [Deff::None, Deff::Srs, Deff::Replace] {
                        for d in 0..set.n_domains() {
                            let got = cal
                                .kernel(rows.of(d), col, missing, total, deff, &mut buf)
                                .unwrap();
                            set.fill_mask(d, &mut mask, |i| !missing(i));
                            let k = if total {
                                Kernel::Total(col)
                            } else {
                                Kernel::Mean(col)
                            };
                            let est = k.point(f.design.weights(), &mask);
                            let v = f.design.kernel_variance(&k, &mask, est, &mut buf2).unwrap();
                            let (nu, nw) = f.design.counts(&mask);
                            let dv = f.design.deff(col, &mask, v, total, deff);
                            assert_eq!(bits(got.estimate), bits(est));
                            assert_eq!(bits(got.variance), bits(v));
                            assert_eq!((got.n_nonzero, bits(got.sum_w_nonzero)), (nu, bits(nw)));
                            assert_eq!(got.deff.map(bits), dv.map(bits));
                            set.fill_mask(d, &mut dom_mask, |_| true);
                            assert_eq!(cal.degf(rows.of(d)), f.design.degf_of(&dom_mask).unwrap());
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn svyciprop_and_svymean_equal_the_row_level_path() {
        let f = fixture();
        let (age_l, _) = labels();
        let by_age = DomainSpec {
            subset: Some(&f.subset),
            by: vec![Factor {
                codes: &f.age,
                labels: &age_l,
            }],
        };
        let opts = Options {
            na_rm: true,
            deff: Deff::Srs,
            ..Options::default()
        };
        let v = Variable::Numeric {
            name: "y",
            values: &f.y,
        };
        for domains in [DomainSpec::default(), by_age] {
            for method in [
                CipropMethod::Logit,
                CipropMethod::Beta,
                CipropMethod::Mean,
                CipropMethod::Asin,
                CipropMethod::Xlogit,
            ] {
                for with_mean in [false, true] {
                    let fast = f
                        .design
                        .ciprop_domains_for_test(&v, method, &domains, &opts, with_mean, false)
                        .unwrap();
                    let rows = f
                        .design
                        .ciprop_domains_for_test(&v, method, &domains, &opts, with_mean, true)
                        .unwrap();
                    assert_eq!(format!("{fast:?}"), format!("{rows:?}"), "{method:?}");
                }
            }
        }
    }

    #[test]
    fn ciprop_with_mean_each_equals_one_call_per_specification() {
        let f = fixture();
        let (age_l, area_l) = labels();
        let opts = Options {
            na_rm: true,
            deff: Deff::Srs,
            ..Options::default()
        };
        let v = Variable::Numeric {
            name: "y",
            values: &f.y,
        };
        let by = vec![
            vec![],
            vec![Factor {
                codes: &f.age,
                labels: &age_l,
            }],
            vec![Factor {
                codes: &f.area,
                labels: &area_l,
            }],
        ];
        for subset in [None, Some(f.subset.as_slice())] {
            for method in [
                CipropMethod::Logit,
                CipropMethod::Beta,
                CipropMethod::Likelihood,
            ] {
                let each = f
                    .design
                    .ciprop_with_mean_each(&v, method, subset, &by, &opts)
                    .unwrap();
                let one_by_one: Vec<_> = by
                    .iter()
                    .map(|b| {
                        let spec = DomainSpec {
                            subset,
                            by: b.clone(),
                        };
                        f.design.ciprop_with_mean(&v, method, &spec, &opts).unwrap()
                    })
                    .collect();
                assert_eq!(format!("{each:?}"), format!("{one_by_one:?}"), "{method:?}");
            }
        }
        // errors come back with the index of the first specification that fails
        let bad = [0.5, 2.0];
        let short = Variable::Numeric {
            name: "y",
            values: &bad,
        };
        let err = f
            .design
            .ciprop_with_mean_each(&short, CipropMethod::Logit, None, &by, &opts)
            .unwrap_err();
        assert_eq!(err.0, 0);
    }
}
