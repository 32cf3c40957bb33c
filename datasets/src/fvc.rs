//! Loader for FVC-style fingerprint folders: images named
//! `{finger}_{impression}.{png,tif,tiff,bmp}`, decoded to 8-bit luma.

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
    if !matches!(ext.as_str(), "png" | "tif" | "tiff" | "bmp") {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fvc_names_are_parsed_and_others_ignored() {
        assert_eq!(parse_name("12_3.png"), Some((12, 3)));
        assert_eq!(parse_name("1_8.TIF"), Some((1, 8)));
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
}
