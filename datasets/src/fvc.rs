//! Loader for FVC-style fingerprint folders: images named
//! `{finger}_{impression}.{png,tif,tiff,bmp,jpg,jpeg}`, decoded to 8-bit luma, with
//! the scan resolution in an optional `dataset.json` (`{"dpi": N}`).

use std::path::{Path, PathBuf};

use image::GrayImage;

use crate::{DatasetError, Result};

/// One image file of an FVC-style folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FvcEntry {
    pub finger: u32,
    pub impression: u32,
    pub path: PathBuf,
}

impl FvcEntry {
    /// Decodes the image (palette, RGB or 16-bit files alike) to 8-bit luma.
    pub fn load(&self) -> Result<GrayImage> {
        let img = image::open(&self.path).map_err(|source| DatasetError::Image {
            path: self.path.clone(),
            source,
        })?;
        Ok(img.into_luma8())
    }
}

/// Parses `{finger}_{impression}.{ext}`; `None` for any other name.
pub fn parse_name(name: &str) -> Option<(u32, u32)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    if !matches!(
        ext.as_str(),
        "png" | "tif" | "tiff" | "bmp" | "jpg" | "jpeg"
    ) {
        return None;
    }
    let (f, i) = stem.split_once('_')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(f) || !digits(i) {
        return None;
    }
    Some((f.parse().ok()?, i.parse().ok()?))
}

/// Lists the FVC-named images of `dir`, sorted by finger then impression;
/// other files are ignored. An empty result is an error.
pub fn list(dir: &Path) -> Result<Vec<FvcEntry>> {
    let io = |source| DatasetError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for item in std::fs::read_dir(dir).map_err(io)? {
        let item = item.map_err(io)?;
        let name = item.file_name();
        let Some((finger, impression)) = name.to_str().and_then(parse_name) else {
            continue;
        };
        entries.push(FvcEntry {
            finger,
            impression,
            path: item.path(),
        });
    }
    if entries.is_empty() {
        return Err(DatasetError::EmptyFolder {
            path: dir.to_path_buf(),
        });
    }
    entries.sort();
    Ok(entries)
}

/// The resolution a folder's `dataset.json` states (`{"dpi": N}`); `None`
/// without the file or without the field. A file that does not parse is an
/// error, never a silent default.
pub fn dataset_dpi(dir: &Path) -> Result<Option<u16>> {
    let path = dir.join("dataset.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(DatasetError::Io { path, source }),
    };
    #[derive(serde::Deserialize)]
    struct DatasetJson {
        dpi: Option<u16>,
    }
    let parsed: DatasetJson = serde_json::from_str(&text).map_err(|source| DatasetError::Json {
        path: path.clone(),
        line: source.line(),
        source,
    })?;
    Ok(parsed.dpi)
}

/// The dataset folders under `root`, sorted by name: each subfolder that
/// holds FVC-named images, or `root` itself when none does and it holds them.
pub fn find_datasets(root: &Path) -> Result<Vec<PathBuf>> {
    let holds_images = |dir: &Path| list(dir).is_ok();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|source| DatasetError::Io {
            path: root.to_path_buf(),
            source,
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && holds_images(p))
        .collect();
    dirs.sort();
    if dirs.is_empty() && holds_images(root) {
        dirs.push(root.to_path_buf());
    }
    if dirs.is_empty() {
        return Err(DatasetError::EmptyFolder {
            path: root.to_path_buf(),
        });
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fvc_names_are_parsed_and_others_ignored() {
        assert_eq!(parse_name("12_3.png"), Some((12, 3)));
        assert_eq!(parse_name("1_8.TIF"), Some((1, 8)));
        assert_eq!(parse_name("4_2.bmp"), Some((4, 2)));
        assert_eq!(parse_name("4_3.jpg"), Some((4, 3)));
        assert_eq!(parse_name("1_8.json"), None);
        assert_eq!(parse_name("a_8.png"), None);
        assert_eq!(parse_name("1_.png"), None);
        assert_eq!(parse_name("1_2_3.png"), None);
        assert_eq!(parse_name("99999999999_1.png"), None);
    }

    #[test]
    fn a_folder_is_listed_in_order_and_decoded_to_luma() {
        let dir = std::env::temp_dir().join(format!("hoviyat-fvc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (f, i) in [(2, 1), (1, 2), (1, 1), (10, 1)] {
            let img = image::RgbImage::from_pixel(4, 3, image::Rgb([10, 200, 30]));
            img.save(dir.join(format!("{f}_{i}.png"))).unwrap();
        }
        std::fs::write(dir.join("1_1.json"), "{}").unwrap();
        let entries = list(&dir).unwrap();
        let order: Vec<(u32, u32)> = entries.iter().map(|e| (e.finger, e.impression)).collect();
        assert_eq!(order, vec![(1, 1), (1, 2), (2, 1), (10, 1)]);
        let img = entries[0].load().unwrap();
        assert_eq!(img.dimensions(), (4, 3));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(list(&dir), Err(DatasetError::Io { .. })));
    }

    #[test]
    fn dataset_json_and_dataset_folders_are_found() {
        let root = std::env::temp_dir().join(format!("hoviyat-fvc-root-{}", std::process::id()));
        let db = root.join("DB9_B");
        std::fs::create_dir_all(&db).unwrap();
        image::GrayImage::new(4, 4)
            .save(db.join("1_1.png"))
            .unwrap();
        assert_eq!(dataset_dpi(&db).unwrap(), None);
        std::fs::write(db.join("dataset.json"), r#"{"dpi": 569}"#).unwrap();
        assert_eq!(dataset_dpi(&db).unwrap(), Some(569));
        std::fs::write(db.join("dataset.json"), "{dpi: 569").unwrap();
        assert!(matches!(dataset_dpi(&db), Err(DatasetError::Json { .. })));
        std::fs::create_dir_all(root.join("empty")).unwrap();
        assert_eq!(find_datasets(&root).unwrap(), vec![db.clone()]);
        assert_eq!(find_datasets(&db).unwrap(), vec![db.clone()]);
        assert!(find_datasets(&root.join("empty")).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
