//! The evidence store: the finger images an enrollment submitted, kept
//! beside the gallery so that adjudicators and investigators can look at
//! the real prints.
//!
//! Layout, under `evidence/` in the data directory:
//!
//! ```text
//! evidence/
//!   <sha256 of the reference id, hex>/
//!     evidence.json   {"version": 1, "reference_id": ..., "images": [...]}
//!     01.png          one file per finger position (two-digit ISO code)
//!     07.jpg
//! ```
//!
//! Reference ids are arbitrary Unicode, so they never name a file: the
//! directory is named by their hash and the manifest holds the id itself.
//! Images are kept as submitted when the format is already compressed and
//! shown by browsers (PNG, JPEG); any other format (BMP, TIFF, ...) is
//! re-encoded losslessly as PNG.
//!
//! An enrollment's images appear all at once or not at all: they are
//! written and fsynced into a temporary directory that is then renamed into
//! place (and the rename fsynced) *before* the enrollment is decided. If the
//! decision then fails the directory is removed again; if the process dies
//! in between, [`EvidenceStore::sweep`] at the next start removes evidence
//! whose reference id is not stored (or is deleted). A removal renames the
//! directory out of the live name first, so a half-removed set is never
//! seen either. Writers of one reference id are serialised by
//! [`EvidenceStore::lock`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use base64::Engine as _;
use hoviyat_models::FingerPosition;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::limits::Limits;
use crate::wire::FingerInput;

/// Sub-directory of the data directory that holds the evidence.
pub const EVIDENCE_DIR: &str = "evidence";
/// Name of the manifest in each enrollment's directory.
pub const MANIFEST_FILE: &str = "evidence.json";
const FORMAT_VERSION: u32 = 1;
/// Prefix of directories being written.
const TMP_PREFIX: &str = ".tmp-";
/// Prefix of directories being removed.
const DEL_PREFIX: &str = ".del-";
/// Lock stripes: writers of one reference id share a stripe.
const STRIPES: usize = 64;

/// How an image is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }
}

/// One image ready to be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceImage {
    pub position: FingerPosition,
    pub format: ImageFormat,
    pub bytes: Vec<u8>,
}

/// One image as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ManifestImage {
    position: u8,
    file: String,
    format: ImageFormat,
    bytes: u64,
    sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    reference_id: String,
    images: Vec<ManifestImage>,
}

impl Manifest {
    fn bytes(&self) -> u64 {
        self.images.iter().map(|i| i.bytes).sum()
    }
}

/// Why the evidence store failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("evidence {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("evidence manifest {path} is not valid: {reason}")]
    Manifest { path: PathBuf, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a start-up sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Enrollments whose evidence was kept.
    pub kept: u64,
    /// Directories removed: unfinished writes and removals, evidence of
    /// reference ids not stored or deleted, unreadable manifests.
    pub removed: u64,
}

/// The evidence of one data directory (see the module docs).
#[derive(Debug)]
pub struct EvidenceStore {
    dir: PathBuf,
    stripes: Vec<Mutex<()>>,
    images: AtomicU64,
    bytes: AtomicU64,
}

/// The directory name of a reference id's evidence.
fn dir_name(reference_id: &str) -> String {
    hex::encode(Sha256::digest(reference_id.as_bytes()))
}

fn sync_dir(dir: &Path) -> Result<(), EvidenceError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

impl EvidenceStore {
    /// Opens (creating if needed) `evidence/` in `data_dir`. Call
    /// [`EvidenceStore::sweep`] before serving: until then the totals are 0.
    pub fn open(data_dir: &Path) -> Result<Self, EvidenceError> {
        let dir = data_dir.join(EVIDENCE_DIR);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(Self {
            dir,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            images: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        })
    }

    /// The directory of the store.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Serialises the writers of `reference_id`: hold it from the check
    /// whether the id is stored to the end of the decision.
    pub fn lock(&self, reference_id: &str) -> MutexGuard<'_, ()> {
        let digest = Sha256::digest(reference_id.as_bytes());
        let stripe = usize::from(digest[0]) % STRIPES;
        // The guarded data is `()`: a panic elsewhere cannot leave it torn.
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Images and bytes kept now.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.images.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    /// Removes what must not stay (unfinished writes and removals, evidence
    /// for which `keep` answers false, unreadable manifests) and counts the
    /// rest. `keep` is asked with each reference id found.
    pub fn sweep<E: std::fmt::Display>(
        &self,
        mut keep: impl FnMut(&str) -> Result<bool, E>,
    ) -> Result<SweepReport, SweepError<E>> {
        let mut report = SweepReport::default();
        let (mut images, mut bytes) = (0u64, 0u64);
        let entries = std::fs::read_dir(&self.dir).map_err(io_err(&self.dir))?;
        for entry in entries {
            let entry = entry.map_err(io_err(&self.dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let manifest = if name.starts_with(TMP_PREFIX) || name.starts_with(DEL_PREFIX) {
                None
            } else {
                match read_manifest(&path) {
                    Ok(m) if dir_name(&m.reference_id) == name => Some(m),
                    Ok(_) => {
                        tracing::warn!(dir = %path.display(), "evidence directory not named by its reference id; removing it");
                        None
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "unreadable evidence; removing it");
                        None
                    }
                }
            };
            let keep_it = match &manifest {
                Some(m) => keep(&m.reference_id).map_err(SweepError::Gallery)?,
                None => false,
            };
            if let (true, Some(m)) = (keep_it, manifest.as_ref()) {
                report.kept += 1;
                images += m.images.len() as u64;
                bytes += m.bytes();
                continue;
            }
            if let Some(m) = &manifest {
                tracing::warn!(
                    reference_id = %m.reference_id,
                    "evidence of an enrollment that is not stored (or is deleted); removing it"
                );
            }
            remove_path(&path).map_err(io_err(&path))?;
            report.removed += 1;
        }
        if report.removed > 0 {
            sync_dir(&self.dir)?;
        }
        self.images.store(images, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
        Ok(report)
    }

    /// Keeps `images` as the evidence of `reference_id`, durably, all at
    /// once. Call it holding [`EvidenceStore::lock`] and only for an id that
    /// is not stored: an earlier directory under its name (left by a removal
    /// that failed) is replaced.
    pub fn put(&self, reference_id: &str, images: &[EvidenceImage]) -> Result<(), EvidenceError> {
        let tmp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempdir_in(&self.dir)
            .map_err(io_err(&self.dir))?;
        let mut manifest = Manifest {
            version: FORMAT_VERSION,
            reference_id: reference_id.to_owned(),
            images: Vec::with_capacity(images.len()),
        };
        for image in images {
            let file = format!("{:02}.{}", image.position.code(), image.format.extension());
            write_synced(&tmp.path().join(&file), &image.bytes)?;
            manifest.images.push(ManifestImage {
                position: image.position.code(),
                file,
                format: image.format,
                bytes: image.bytes.len() as u64,
                sha256: hex::encode(Sha256::digest(&image.bytes)),
            });
        }
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| EvidenceError::Manifest {
            path: tmp.path().join(MANIFEST_FILE),
            reason: e.to_string(),
        })?;
        write_synced(&tmp.path().join(MANIFEST_FILE), &json)?;
        sync_dir(tmp.path())?;
        let target = self.dir.join(dir_name(reference_id));
        if target.exists() {
            self.remove(reference_id)?;
        }
        // From here the temporary directory is ours to rename; if the rename
        // fails it is removed here, or by the next start's sweep.
        let tmp_path = tmp.keep();
        if let Err(source) = std::fs::rename(&tmp_path, &target) {
            let _ = std::fs::remove_dir_all(&tmp_path);
            return Err(EvidenceError::Io {
                path: target,
                source,
            });
        }
        sync_dir(&self.dir)?;
        self.images
            .fetch_add(manifest.images.len() as u64, Ordering::Relaxed);
        self.bytes.fetch_add(manifest.bytes(), Ordering::Relaxed);
        Ok(())
    }

    /// Removes the evidence of `reference_id`; false if there was none.
    pub fn remove(&self, reference_id: &str) -> Result<bool, EvidenceError> {
        let live = self.dir.join(dir_name(reference_id));
        let manifest = match read_manifest(&live) {
            Ok(m) => Some(m),
            Err(EvidenceError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && !live.exists() =>
            {
                return Ok(false);
            }
            // Unreadable: removed all the same, counted as nothing.
            Err(_) => None,
        };
        let doomed = self.dir.join(format!(
            "{DEL_PREFIX}{}-{}",
            dir_name(reference_id),
            rand::random::<u64>()
        ));
        std::fs::rename(&live, &doomed).map_err(io_err(&live))?;
        sync_dir(&self.dir)?;
        if let Some(m) = manifest {
            self.images
                .fetch_sub(m.images.len() as u64, Ordering::Relaxed);
            self.bytes.fetch_sub(m.bytes(), Ordering::Relaxed);
        }
        // Out of sight now; a failure here leaves it to the next sweep.
        if let Err(e) = std::fs::remove_dir_all(&doomed) {
            tracing::warn!(error = %e, dir = %doomed.display(), "removed evidence left behind; the next start sweeps it");
        }
        Ok(true)
    }

    /// The positions with a kept image, for `reference_id`.
    pub fn positions(&self, reference_id: &str) -> Result<Vec<FingerPosition>, EvidenceError> {
        let Some(manifest) = self.manifest(reference_id)? else {
            return Ok(Vec::new());
        };
        Ok(manifest
            .images
            .iter()
            .filter_map(|i| FingerPosition::from_code(i.position).ok())
            .collect())
    }

    /// The kept image of `reference_id` at `position`, if there is one.
    pub fn read(
        &self,
        reference_id: &str,
        position: FingerPosition,
    ) -> Result<Option<(ImageFormat, Vec<u8>)>, EvidenceError> {
        let Some(manifest) = self.manifest(reference_id)? else {
            return Ok(None);
        };
        let Some(image) = manifest
            .images
            .iter()
            .find(|i| i.position == position.code())
        else {
            return Ok(None);
        };
        let path = self.dir.join(dir_name(reference_id)).join(&image.file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some((image.format, bytes))),
            // Removed between the manifest and the file: gone.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(EvidenceError::Io { path, source }),
        }
    }

    fn manifest(&self, reference_id: &str) -> Result<Option<Manifest>, EvidenceError> {
        let dir = self.dir.join(dir_name(reference_id));
        match read_manifest(&dir) {
            Ok(m) if m.reference_id == reference_id => Ok(Some(m)),
            Ok(m) => Err(EvidenceError::Manifest {
                path: dir.join(MANIFEST_FILE),
                reason: format!("it names reference id {:?}", m.reference_id),
            }),
            Err(EvidenceError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Why a start-up sweep failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError<E: std::fmt::Display> {
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error("asking the gallery about evidence: {0}")]
    Gallery(E),
}

fn read_manifest(dir: &Path) -> Result<Manifest, EvidenceError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(io_err(&path))?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| EvidenceError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    if manifest.version != FORMAT_VERSION {
        return Err(EvidenceError::Manifest {
            path,
            reason: format!(
                "version {}; this build reads {FORMAT_VERSION}",
                manifest.version
            ),
        });
    }
    Ok(manifest)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn remove_path(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// The images among an enrollment's fingers, in the form they are kept:
/// PNG and JPEG bytes as submitted, anything else decoded (under the
/// service's limits) and re-encoded losslessly as PNG. CPU work: call it
/// off the async threads, after the request has been validated.
pub fn prepare(fingers: &[FingerInput], limits: &Limits) -> Result<Vec<EvidenceImage>, ApiError> {
    let mut out = Vec::new();
    for (i, f) in fingers.iter().enumerate() {
        let Some(img) = &f.image else { continue };
        let field = format!("fingers[{i}].image");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(img.data.trim())
            .map_err(|e| {
                ApiError::invalid("bad_base64", format!("not standard base64: {e}"))
                    .at(format!("{field}.data"))
            })?;
        let (format, bytes) = match image::guess_format(&bytes) {
            Ok(image::ImageFormat::Png) => (ImageFormat::Png, bytes),
            Ok(image::ImageFormat::Jpeg) => (ImageFormat::Jpeg, bytes),
            _ => (ImageFormat::Png, to_png(&bytes, limits, &field)?),
        };
        out.push(EvidenceImage {
            position: f.position,
            format,
            bytes,
        });
    }
    Ok(out)
}

/// Re-encodes an image losslessly as PNG (8- and 16-bit grey and colour
/// as they are; floating-point samples as 16-bit).
fn to_png(bytes: &[u8], limits: &Limits, field: &str) -> Result<Vec<u8>, ApiError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| {
            ApiError::invalid("bad_image", format!("unreadable image: {e}"))
                .at(format!("{field}.data"))
        })?;
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_image_side_px);
    image_limits.max_image_height = Some(limits.max_image_side_px);
    image_limits.max_alloc = Some(limits.max_image_alloc_bytes);
    reader.limits(image_limits);
    let decoded = reader.decode().map_err(|e| {
        ApiError::invalid("bad_image", format!("undecodable image: {e}"))
            .at(format!("{field}.data"))
    })?;
    let decoded = match decoded {
        image::DynamicImage::ImageRgb32F(_) => image::DynamicImage::ImageRgb16(decoded.to_rgb16()),
        image::DynamicImage::ImageRgba32F(_) => {
            image::DynamicImage::ImageRgba16(decoded.to_rgba16())
        }
        other => other,
    };
    let mut png = Vec::new();
    decoded
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(ApiError::internal)?;
    Ok(png)
}

impl ApiError {
    /// 503 with `Retry-After`: the evidence store cannot be written, so the
    /// enrollment is not decided (details in the log).
    pub fn evidence_unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "evidence store cannot be written");
        let mut e = Self::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "evidence_unavailable",
            "the submitted images cannot be stored; nothing was done; retry later",
        );
        e.retry_after_s = Some(5);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(position: u8, byte: u8) -> EvidenceImage {
        EvidenceImage {
            position: FingerPosition::from_code(position).unwrap(),
            format: ImageFormat::Png,
            bytes: vec![byte; 10 + usize::from(position)],
        }
    }

    #[test]
    fn put_read_remove_and_the_totals_follow() {
        let data = tempfile::tempdir().unwrap();
        let store = EvidenceStore::open(data.path()).unwrap();
        let id = "../شناسه/..\u{0}";
        store.put(id, &[image(1, 7), image(7, 9)]).unwrap();
        assert_eq!(store.totals(), (2, 11 + 17));
        let (format, bytes) = store
            .read(id, FingerPosition::from_code(7).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!((format, bytes), (ImageFormat::Png, vec![9; 17]));
        assert_eq!(
            store
                .read(id, FingerPosition::from_code(2).unwrap())
                .unwrap(),
            None
        );
        assert_eq!(
            store.positions(id).unwrap(),
            vec![
                FingerPosition::from_code(1).unwrap(),
                FingerPosition::from_code(7).unwrap()
            ]
        );
        // The id names no file: one hex-named directory holds it all.
        let names: Vec<_> = std::fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![dir_name(id)]);

        assert!(store.remove(id).unwrap());
        assert_eq!(store.totals(), (0, 0));
        assert!(!store.remove(id).unwrap());
        assert_eq!(store.positions(id).unwrap(), vec![]);
        assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), 0);
    }

    #[test]
    fn a_sweep_keeps_stored_ids_and_removes_leftovers() {
        let data = tempfile::tempdir().unwrap();
        let store = EvidenceStore::open(data.path()).unwrap();
        store.put("stored", &[image(2, 1)]).unwrap();
        store
            .put("never-committed", &[image(3, 1), image(4, 1)])
            .unwrap();
        std::fs::create_dir(store.dir().join(".tmp-half")).unwrap();
        std::fs::write(store.dir().join(".tmp-half/01.png"), b"x").unwrap();

        let reopened = EvidenceStore::open(data.path()).unwrap();
        let report = reopened
            .sweep(|id| Ok::<_, std::convert::Infallible>(id == "stored"))
            .unwrap();
        assert_eq!(
            report,
            SweepReport {
                kept: 1,
                removed: 2
            }
        );
        assert_eq!(reopened.totals(), (1, 12));
        assert_eq!(reopened.positions("never-committed").unwrap(), vec![]);
        assert_eq!(reopened.positions("stored").unwrap().len(), 1);
    }

    /// A manifest of the first format version, committed with the code,
    /// still reads.
    #[test]
    fn the_committed_version_1_sample_still_reads() {
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/evidence-v1");
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join(EVIDENCE_DIR).join(dir_name("sample-1"));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [MANIFEST_FILE, "02.png"] {
            std::fs::copy(format!("{sample}/{name}"), dir.join(name)).unwrap();
        }
        let store = EvidenceStore::open(data.path()).unwrap();
        store
            .sweep(|_| Ok::<_, std::convert::Infallible>(true))
            .unwrap();
        let (format, bytes) = store
            .read("sample-1", FingerPosition::from_code(2).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(format, ImageFormat::Png);
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (4, 3));
        assert_eq!(store.totals(), (1, bytes.len() as u64));
    }
}
