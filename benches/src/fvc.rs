//! FVC-named dataset folders (see [`hoviyat_datasets::fvc`]) turned into
//! evaluation samples: by the engine's extractor, timed, or from
//! `iso/{finger}_{impression}.iso`, another extractor's minutiae of each
//! image (ISO/IEC 19794-2 or ANSI 378, told apart by content).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use hoviyat_datasets::fvc;
use hoviyat_engine::extract::{DecodeLimits, ExtractConfig, decode_image, extract};
use hoviyat_models::FingerTemplate;
use image::GrayImage;
use rayon::prelude::*;

use crate::fingers::Sample;

/// Resolution assumed when a folder has no `dataset.json`.
pub const DEFAULT_DPI: u16 = 500;

/// One image of a dataset folder.
#[derive(Debug, Clone)]
pub struct FvcImage {
    pub path: PathBuf,
    pub finger: u32,
    pub impression: u32,
}

/// An FVC-named dataset folder.
#[derive(Debug, Clone)]
pub struct FvcDataset {
    pub dir: PathBuf,
    /// The folder's name (`DB1_B`).
    pub name: String,
    /// Scan resolution: an explicit override, else `dataset.json`, else 500.
    pub dpi: u16,
    /// The resolution the override or `dataset.json` stated, if either did.
    pub stated_dpi: Option<u16>,
    /// Images sorted by finger, then impression.
    pub images: Vec<FvcImage>,
}

/// Templates of a dataset with the time each took to make.
#[derive(Debug, Clone)]
pub struct ExtractedSamples {
    pub samples: Vec<Sample>,
    /// Wall time of each successful or failed extraction (decoding
    /// excluded), milliseconds, in image order.
    pub extract_ms: Vec<f64>,
}

impl FvcDataset {
    /// Reads the folder listing and its resolution; `dpi` overrides
    /// `dataset.json`.
    pub fn open(dir: &Path, dpi: Option<u16>) -> anyhow::Result<Self> {
        let images = fvc::list(dir)?
            .into_iter()
            .map(|e| FvcImage {
                path: e.path,
                finger: e.finger,
                impression: e.impression,
            })
            .collect();
        let stated_dpi = match dpi {
            Some(dpi) => Some(dpi),
            None => fvc::dataset_dpi(dir)?,
        };
        let dpi = stated_dpi.unwrap_or(DEFAULT_DPI);
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        Ok(Self {
            dir: dir.to_path_buf(),
            name,
            dpi,
            stated_dpi,
            images,
        })
    }

    /// Whether the folder has another extractor's records in `iso/`.
    pub fn has_iso(&self) -> bool {
        self.dir.join("iso").is_dir()
    }

    /// Decodes image `i` to grey at its scan resolution.
    pub fn load_image(&self, i: usize) -> anyhow::Result<GrayImage> {
        let path = &self.images[i].path;
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        decode_image(&bytes, &DecodeLimits::for_dpi(self.dpi))
            .with_context(|| format!("decoding {}", path.display()))
    }

    /// Extracts every image with the engine's extractor (in parallel; each
    /// extraction timed on its own). A failure to extract gives a sample
    /// without template, exactly as `hoviyat extract` refuses the image; an
    /// unreadable file is an error.
    pub fn extract_samples(&self) -> anyhow::Result<ExtractedSamples> {
        self.extract_changed(|_, image| image)
    }

    /// Like [`Self::extract_samples`], with each decoded image passed
    /// through `change(image index, image)` first.
    pub fn extract_changed(
        &self,
        change: impl Fn(usize, GrayImage) -> GrayImage + Sync,
    ) -> anyhow::Result<ExtractedSamples> {
        let results: Vec<(Sample, f64)> = (0..self.images.len())
            .into_par_iter()
            .map(|i| {
                let image = change(i, self.load_image(i)?);
                let (template, ms) = self.extract_one(i, &image)?;
                Ok((self.sample(i, template), ms))
            })
            .collect::<anyhow::Result<_>>()?;
        let (samples, extract_ms) = results.into_iter().unzip();
        Ok(ExtractedSamples {
            samples,
            extract_ms,
        })
    }

    /// Extracts image `i` (already decoded, perhaps changed) and times it.
    fn extract_one(
        &self,
        i: usize,
        image: &GrayImage,
    ) -> anyhow::Result<(Option<FingerTemplate>, f64)> {
        let path = &self.images[i].path;
        let config = ExtractConfig {
            dpi: self.dpi,
            ..ExtractConfig::default()
        };
        let started = Instant::now();
        let result = extract(image, &config);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        match result {
            Ok(extraction) => Ok((Some(extraction.template), ms)),
            Err(e) if e.is_failure_to_extract() => {
                tracing::info!(file = %path.display(), reason = %e, "failure to extract");
                Ok((None, ms))
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!("extracting {}", path.display()))),
        }
    }

    /// The first finger of each image's record in `iso/{stem}.iso`, in the
    /// image's pixels. Every image needs its record; a record that does not
    /// decode is an error.
    ///
    /// A record whose image size differs from the image's was written from a
    /// resampled copy (FVC2002 set B's SecuGen records: every capture
    /// stretched to 300 x 400 px, DB3_B's 300 x 300 by 4/3 along y alone);
    /// its minutiae are stretched back onto the image
    /// ([`FingerTemplate::stretched_to`]). Where the folder states its scan
    /// resolution (`dataset.json` or an override) it replaces the record's
    /// own, which such records write as 500 dpi whatever the scanner.
    pub fn iso_samples(&self) -> anyhow::Result<Vec<Sample>> {
        let mut stretched = 0usize;
        let samples = (0..self.images.len())
            .map(|i| {
                let img = &self.images[i];
                let stem = img
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let path = self.dir.join("iso").join(format!("{stem}.iso"));
                let bytes =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                let decoded = hoviyat_models::codec::decode(&bytes)
                    .with_context(|| format!("decoding {}", path.display()))?;
                let Some(record) = decoded.fingers.into_iter().next() else {
                    bail!("{} holds no finger view", path.display());
                };
                let (width, height) = image::image_dimensions(&img.path)
                    .with_context(|| format!("reading the size of {}", img.path.display()))?;
                let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
                    bail!("{} is larger than a template can say", img.path.display());
                };
                if (w, h) != (record.width_px, record.height_px) {
                    stretched += 1;
                }
                let mut template = record.stretched_to(w, h);
                if let Some(dpi) = self.stated_dpi {
                    template.dpi = dpi;
                }
                Ok(self.sample(i, Some(template)))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if stretched > 0 {
            tracing::info!(
                dataset = %self.name,
                stretched,
                records = samples.len(),
                "records written from resampled captures read in the captures' pixels"
            );
        }
        Ok(samples)
    }

    fn sample(&self, i: usize, template: Option<FingerTemplate>) -> Sample {
        Sample {
            finger: self.images[i].finger,
            impression: self.images[i].impression,
            template,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path) {
        GrayImage::from_pixel(120, 120, image::Luma([200]))
            .save(path)
            .expect("png written");
    }

    /// Writes `iso/{stem}.iso`: one ending at `(x, y, angle)` in a record
    /// of a `size` image at 500 dpi.
    fn write_record(dir: &Path, stem: &str, size: (u16, u16), (x, y, angle): (f32, f32, f32)) {
        let record = FingerTemplate {
            position: hoviyat_models::FingerPosition::Unknown,
            width_px: size.0,
            height_px: size.1,
            dpi: 500,
            quality: 60,
            minutiae: vec![hoviyat_models::Minutia::new(
                x,
                y,
                angle,
                hoviyat_models::MinutiaKind::Ending,
                50,
            )],
            ridge_map: None,
        };
        let bytes = hoviyat_models::codec::encode(
            std::slice::from_ref(&record),
            hoviyat_models::codec::TemplateFormat::Iso19794_2_2005,
        )
        .expect("encodes");
        std::fs::create_dir_all(dir.join("iso")).expect("mkdir");
        std::fs::write(dir.join("iso").join(format!("{stem}.iso")), bytes).expect("write");
    }

    #[test]
    fn dataset_json_sets_the_resolution_unless_overridden() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_png(&dir.path().join("1_2.png"));
        write_png(&dir.path().join("1_1.png"));
        std::fs::write(dir.path().join("dataset.json"), r#"{"dpi": 569}"#).expect("write");
        let ds = FvcDataset::open(dir.path(), None).expect("opens");
        assert_eq!(ds.dpi, 569);
        let order: Vec<(u32, u32)> = ds.images.iter().map(|i| (i.finger, i.impression)).collect();
        assert_eq!(order, vec![(1, 1), (1, 2)]);
        assert_eq!(
            FvcDataset::open(dir.path(), Some(500)).expect("opens").dpi,
            500
        );
        std::fs::remove_file(dir.path().join("dataset.json")).expect("rm");
        assert_eq!(
            FvcDataset::open(dir.path(), None).expect("opens").dpi,
            DEFAULT_DPI
        );
    }

    #[test]
    fn a_blank_image_is_a_failure_to_extract_and_records_are_read_from_iso() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_png(&dir.path().join("3_1.png"));
        let ds = FvcDataset::open(dir.path(), None).expect("opens");
        let extracted = ds.extract_samples().expect("runs");
        assert_eq!(extracted.samples.len(), 1);
        assert!(extracted.samples[0].template.is_none());
        assert_eq!(extracted.extract_ms.len(), 1);
        assert!(!ds.has_iso());
        assert!(ds.iso_samples().is_err(), "a missing record is an error");

        write_record(dir.path(), "3_1", (120, 120), (10.0, 20.0, 1.0));
        assert!(ds.has_iso());
        let samples = ds.iso_samples().expect("reads");
        let read = samples[0].template.as_ref().expect("template");
        assert_eq!(read.minutiae.len(), 1);
        assert_eq!((read.minutiae[0].x_px, read.minutiae[0].y_px), (10.0, 20.0));
        assert_eq!(
            read.dpi, 500,
            "the record's own resolution without a stated one"
        );
        let stated = FvcDataset::open(dir.path(), Some(569)).expect("opens");
        let read = stated.iso_samples().expect("reads");
        assert_eq!(read[0].template.as_ref().map(|t| t.dpi), Some(569));
    }

    #[test]
    fn a_record_of_a_resampled_copy_is_read_in_the_images_pixels() {
        // The record was written from the 120 x 120 capture stretched to
        // 300 x 400, as FVC2002 set B's are.
        let dir = tempfile::tempdir().expect("tempdir");
        write_png(&dir.path().join("1_1.png"));
        write_record(
            dir.path(),
            "1_1",
            (300, 400),
            (150.0, 100.0, std::f32::consts::FRAC_PI_4),
        );
        let ds = FvcDataset::open(dir.path(), None).expect("opens");
        let samples = ds.iso_samples().expect("reads");
        let read = samples[0].template.as_ref().expect("template");
        assert_eq!((read.width_px, read.height_px), (120, 120));
        let m = read.minutiae[0];
        assert!((m.x_px - 60.0).abs() < 0.01 && (m.y_px - 30.0).abs() < 0.01);
        // The direction's components shrink with their axes, by 0.4 along
        // x and 0.3 along y: the diagonal turns to tan a = 0.3 / 0.4.
        assert!(
            (m.angle_rad - 0.75f32.atan()).abs() < 0.01,
            "{}",
            m.angle_rad
        );
        read.validate().expect("inside the image");
    }
}
