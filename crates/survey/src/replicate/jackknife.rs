//! Jackknife replicate multipliers as R's `jk1weights()` and `jknweights()` build them (`as.svrepdesign` with
//! `type="JK1"` / `"JKn"`), including the first-stage fpc and the lonely-PSU rule in force at creation.

use super::{DesignColumns, PsuLayout, PsuMultipliers, stratum_fpc, stratum_label};
use crate::SurveyError;
use crate::lonely::LonelyPsu;

/// `(multipliers per replicate, scale, rscales)`.
pub(crate) type Built = (Vec<PsuMultipliers>, f64, Vec<f64>);

/// R's fpc correction `(N - n) / N` for a stratum with `n` sampled PSUs out of `population`.
fn correction(population: Option<f64>, n: usize, label: &str) -> Result<f64, SurveyError> {
    match population {
        None => Ok(1.0),
        Some(big_n) if big_n < n as f64 => Err(SurveyError::Invalid(format!(
            "Population size smaller than sample size in stratum {label}: fpc {big_n} < {n} PSUs"
        ))),
        Some(big_n) => Ok((big_n - n as f64) / big_n),
    }
}

/// Delete-one-PSU jackknife for an unstratified design: replicate r zeroes PSU r and multiplies the others by
/// n/(n-1); scale = (N-n)/N * (n-1)/n. A census (N = n) has no replicates (R's `survey.drop.replicates`).
pub(crate) fn jk1(columns: &DesignColumns<'_>, layout: &PsuLayout) -> Result<Built, SurveyError> {
    let n = layout.n_psu();
    if n < 2 {
        return Err(SurveyError::Invalid(
            "Design has only one primary sampling unit".into(),
        ));
    }
    let population = match columns.fpc {
        None => None,
        Some(fpc) => {
            let first = fpc[0];
            if let Some(i) = fpc.iter().position(|&f| f != first) {
                return Err(SurveyError::Invalid(format!(
                    "More than one fpc value given for JK1 ({first} and {} in row {})",
                    fpc[i],
                    i + 1
                )));
            }
            if first.is_nan() || first < 0.0 {
                return Err(SurveyError::Invalid(format!(
                    "Negative finite population correction {first}"
                )));
            }
            Some(first)
        }
    };
    let fpc = correction(population, n, "1")?;
    let nf = n as f64;
    let scale = fpc * (nf - 1.0) / nf;
    if fpc == 0.0 {
        return Ok((vec![], scale, vec![]));
    }
    let keep = nf / (nf - 1.0);
    let multipliers = (0..n)
        .map(|r| PsuMultipliers {
            default: keep,
            except: vec![(r, 0.0)],
        })
        .collect();
    Ok((multipliers, scale, vec![1.0; n]))
}

/// Stratified delete-one-PSU jackknife: one replicate per PSU of each stratum (strata and PSUs in order of first
/// appearance), rscale (n_h-1)/n_h times the stratum's fpc correction. A single-PSU stratum follows `lonely`:
/// fail (error), certainty/remove (no replicate), average (no replicate, scale = PSUs/replicates), adjust (one
/// replicate zeroing it and multiplying every other PSU by H/(H-1), rscale (H-1)/H, H = number of strata).
pub(crate) fn jkn(
    columns: &DesignColumns<'_>,
    layout: &PsuLayout,
    lonely: LonelyPsu,
) -> Result<Built, SurveyError> {
    let fpc = stratum_fpc(columns, layout)?;
    let n_psu = layout.n_psu();
    let n_strata = layout.strata.len() as f64;
    let mut multipliers: Vec<PsuMultipliers> = Vec::new();
    let mut rscales = Vec::new();
    let mut members_of: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for (p, &s) in layout.psu_stratum.iter().enumerate() {
        members_of.entry(s).or_default().push(p); // PSUs in first-appearance order
    }
    for &s in &layout.strata {
        let label = stratum_label(columns, s);
        let members = members_of.remove(&s).unwrap_or_default();
        let n_h = members.len();
        let population = fpc.as_ref().and_then(|m| m.get(&s).copied());
        let corr = correction(population, n_h, &label)?;
        if corr == 0.0 {
            continue; // stratum sampled exhaustively: no replicate
        }
        if n_h == 1 {
            match lonely {
                LonelyPsu::Fail => {
                    return Err(SurveyError::LonelyPsu {
                        stratum: label,
                        stage: 1,
                    });
                }
                LonelyPsu::Remove | LonelyPsu::Certainty | LonelyPsu::Average => continue,
                LonelyPsu::Adjust if n_strata < 2.0 => {
                    return Err(SurveyError::LonelyPsu {
                        stratum: label,
                        stage: 1,
                    });
                }
                LonelyPsu::Adjust => {
                    let other = n_strata / (n_strata - 1.0);
                    multipliers.push(PsuMultipliers {
                        default: other,
                        except: members.iter().map(|&p| (p, 0.0)).collect(),
                    });
                    rscales.push((n_strata - 1.0) / n_strata);
                    continue;
                }
            }
        }
        let nf = n_h as f64;
        let keep = nf / (nf - 1.0);
        let rscale = corr * (nf - 1.0) / nf;
        for &deleted in &members {
            let except = members
                .iter()
                .map(|&p| (p, if p == deleted { 0.0 } else { keep }))
                .collect();
            multipliers.push(PsuMultipliers {
                default: 1.0,
                except,
            });
            rscales.push(rscale);
        }
    }
    if multipliers.is_empty() {
        return Err(SurveyError::Invalid(
            "All strata were exhaustively sampled: you have the whole population".into(),
        ));
    }
    let mut scale = 1.0;
    if multipliers.len() < n_psu && lonely == LonelyPsu::Average {
        scale = n_psu as f64 / multipliers.len() as f64;
    }
    Ok((multipliers, scale, rscales))
}
