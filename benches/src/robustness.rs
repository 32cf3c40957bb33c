//! `hoviyat eval robustness`: an FVC-named folder with impressions 2..N
//! changed by one seeded family of [`hoviyat_datasets::robustness`] at a
//! time (impression 1 stays as captured), then the all-pairs protocol.
//! Image changes go through the extractor; with `iso` templates the same
//! change moves the record's minutiae instead.

use hoviyat_datasets::robustness::{Change, Family};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::fingers::{Protocol, Sample, evaluate};
use crate::fvc::{FvcDataset, FvcImage};

/// Where the minutiae come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateSource {
    /// Changed images through the engine's extractor.
    Extract,
    /// The folder's `iso/` records, changed at minutia level.
    Iso,
    /// The unchanged images through the engine's extractor, then changed at
    /// minutia level: beside `Extract`, it tells the extractor's share of a
    /// family's cost from the matcher's.
    ExtractedMinutiae,
}

/// One family's figures.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyRow {
    /// A [`Family`] name, or `none` for the unchanged dataset.
    pub family: &'static str,
    pub eer: f64,
    /// 95 % interval of the EER over resamplings of the fingers.
    pub eer_interval: crate::interval::Interval,
    pub fmr100: f64,
    pub fmr1000: f64,
    pub fmr1000_interval: crate::interval::Interval,
    pub zero_fmr: f64,
    pub fte: f64,
    pub n_genuine: usize,
    pub n_impostor: usize,
    pub mean_minutiae: f64,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RobustnessReport {
    pub dataset: String,
    pub seed: u64,
    pub templates: TemplateSource,
    pub protocol: Protocol,
    pub families: Vec<FamilyRow>,
}

/// The change of impression `impression` of `finger` under `family`: the
/// same for a given seed whatever the template source.
pub fn change_for(
    family: Family,
    seed: u64,
    finger: u32,
    impression: u32,
    width: u32,
    height: u32,
) -> Change {
    let family_index = Family::ALL.iter().position(|f| *f == family).unwrap_or(0) as u64;
    let stream = (family_index << 48) ^ (u64::from(finger) << 16) ^ u64::from(impression);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    family.draw(width, height, &mut rng)
}

/// The change of every image of `ds` under `family`, drawn on the image's
/// own size as [`run_robustness`] draws it; `None` for the first
/// impression of each finger, which stays as captured.
pub fn image_changes(
    ds: &FvcDataset,
    family: Family,
    seed: u64,
) -> anyhow::Result<Vec<Option<Change>>> {
    changes_of_later_impressions(ds, |img, w, h| {
        change_for(family, seed, img.finger, img.impression, w, h)
    })
}

/// `change(image, width, height)` for every image of `ds` but the first
/// impression of each finger (`None`: kept as captured).
pub fn changes_of_later_impressions(
    ds: &FvcDataset,
    change: impl Fn(&FvcImage, u32, u32) -> Change,
) -> anyhow::Result<Vec<Option<Change>>> {
    let first = ds.images.iter().map(|i| i.impression).min().unwrap_or(1);
    ds.images
        .iter()
        .map(|img| {
            if img.impression == first {
                return Ok(None);
            }
            let (w, h) = image::image_dimensions(&img.path)?;
            Ok(Some(change(img, w, h)))
        })
        .collect()
}

/// The images of `ds` changed by `changes` (one per image, from
/// [`image_changes`]), through the engine's extractor.
pub fn extract_with_changes(
    ds: &FvcDataset,
    changes: &[Option<Change>],
) -> anyhow::Result<Vec<Sample>> {
    Ok(ds
        .extract_changed(|i, image| match &changes[i] {
            Some(change) => change.apply_image(&image),
            None => image,
        })?
        .samples)
}

/// Runs the unchanged dataset and then every family.
pub fn run_robustness(
    ds: &FvcDataset,
    seed: u64,
    source: TemplateSource,
    protocol: Protocol,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<RobustnessReport> {
    let first = ds.images.iter().map(|i| i.impression).min().unwrap_or(1);
    let iso = match source {
        TemplateSource::Iso => Some(ds.iso_samples()?),
        TemplateSource::ExtractedMinutiae => Some(ds.extract_samples()?.samples),
        TemplateSource::Extract => None,
    };
    let mut families = Vec::new();
    let mut evaluate_row = |family: &'static str, samples: &[Sample]| -> anyhow::Result<()> {
        let (report, _) = evaluate(samples, protocol)?;
        families.push(FamilyRow {
            family,
            eer: report.eer,
            eer_interval: report.eer_interval,
            fmr100: report.fmr100,
            fmr1000: report.fmr1000,
            fmr1000_interval: report.fmr1000_interval,
            zero_fmr: report.zero_fmr,
            fte: report.fte,
            n_genuine: report.n_genuine,
            n_impostor: report.n_impostor,
            mean_minutiae: report.mean_minutiae,
        });
        Ok(())
    };
    let changes = |family: Option<Family>| -> anyhow::Result<Vec<Sample>> {
        let change_of = |i: usize, width: u32, height: u32| {
            let img = &ds.images[i];
            family
                .filter(|_| img.impression != first)
                .map(|f| change_for(f, seed, img.finger, img.impression, width, height))
        };
        Ok(match &iso {
            Some(samples) => samples
                .iter()
                .enumerate()
                .map(|(i, s)| Sample {
                    template: s.template.as_ref().map(|t| {
                        match change_of(i, u32::from(t.width_px), u32::from(t.height_px)) {
                            Some(change) => change.apply_template(t),
                            None => t.clone(),
                        }
                    }),
                    ..s.clone()
                })
                .collect(),
            None => {
                ds.extract_changed(
                    |i, image| match change_of(i, image.width(), image.height()) {
                        Some(change) => change.apply_image(&image),
                        None => image,
                    },
                )?
                .samples
            }
        })
    };
    progress("none");
    evaluate_row("none", &changes(None)?)?;
    for family in Family::ALL {
        // Compression changes images only: on templates its row would be
        // the unchanged one again.
        if family == Family::Compression && iso.is_some() {
            continue;
        }
        progress(family.name());
        evaluate_row(family.name(), &changes(Some(family))?)?;
    }
    Ok(RobustnessReport {
        dataset: ds.dir.display().to_string(),
        seed,
        templates: source,
        protocol,
        families,
    })
}
