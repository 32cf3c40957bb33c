//! Population files: a stream of binary enrollment records that
//! `hoviyat synth population` writes and `hoviyat gallery import` reads.
//!
//! # Layout (version 1, little-endian)
//! ```text
//! magic "HVYPOP\0\x01" (8) version:u16 flags:u16 face_dim:u32 seed:u64 count:u64
//! count x { len:u32 record:[u8; len] crc32(record):u32 }
//! ```
//! `record` is [`hoviyat_models::binary::encode_record`]. The file is read
//! and written as a stream: a million identities are several gigabytes and
//! are never held in memory.

use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use hoviyat_models::EnrollmentRecord;
use hoviyat_models::binary::{decode_record, encode_record};

use crate::{DatasetError, Result};

/// The first eight bytes of every population file.
pub const MAGIC: [u8; 8] = *b"HVYPOP\0\x01";
/// The layout version this code writes and reads.
pub const VERSION: u16 = 1;
/// Size of the fixed header, bytes.
pub const HEADER_BYTES: usize = 32;
/// Longest encoded record accepted; a real one is a few kilobytes.
pub const MAX_RECORD_BYTES: u32 = 1 << 20;

/// What the header of a population file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopulationHeader {
    /// Seed the population was generated with (0 if not synthetic).
    pub seed: u64,
    /// Number of records that follow.
    pub count: u64,
    /// Face template dimension of the records (0 = no faces).
    pub face_dim: u32,
}

impl PopulationHeader {
    fn to_bytes(self) -> [u8; HEADER_BYTES] {
        let mut b = [0u8; HEADER_BYTES];
        b[..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_le_bytes());
        // bytes 10..12: flags, none defined yet.
        b[12..16].copy_from_slice(&self.face_dim.to_le_bytes());
        b[16..24].copy_from_slice(&self.seed.to_le_bytes());
        b[24..32].copy_from_slice(&self.count.to_le_bytes());
        b
    }

    fn from_bytes(b: &[u8; HEADER_BYTES]) -> Result<Self> {
        let mut magic = [0u8; 8];
        magic.copy_from_slice(&b[..8]);
        if magic != MAGIC {
            return Err(DatasetError::BadMagic { found: magic });
        }
        let version = u16::from_le_bytes([b[8], b[9]]);
        if version != VERSION {
            return Err(DatasetError::UnsupportedVersion { version });
        }
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
        Ok(Self {
            face_dim: u32_at(12),
            seed: u64_at(16),
            count: u64_at(24),
        })
    }
}

/// Writes a population file record by record.
#[derive(Debug)]
pub struct PopulationWriter<W: Write> {
    out: W,
    header: PopulationHeader,
    written: u64,
    path: PathBuf,
}

impl PopulationWriter<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, header: PopulationHeader) -> Result<Self> {
        let file = File::create(path).map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(BufWriter::with_capacity(1 << 20, file), header, path)
    }
}

impl<W: Write> PopulationWriter<W> {
    /// Writes the header to `out`; `path` only names the target in errors.
    pub fn new(mut out: W, header: PopulationHeader, path: &Path) -> Result<Self> {
        out.write_all(&header.to_bytes())
            .map_err(|source| DatasetError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            out,
            header,
            written: 0,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record.
    pub fn write(&mut self, record: &EnrollmentRecord) -> Result<()> {
        let bytes = encode_record(record).map_err(|source| DatasetError::Record {
            index: self.written,
            source,
        })?;
        self.write_encoded(&bytes)
    }

    /// Appends one record already encoded with
    /// [`hoviyat_models::binary::encode_record`] (lets callers encode in
    /// parallel).
    pub fn write_encoded(&mut self, bytes: &[u8]) -> Result<()> {
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|&l| l <= MAX_RECORD_BYTES)
            .ok_or(DatasetError::RecordTooLong {
                index: self.written,
                len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
                max: MAX_RECORD_BYTES,
            })?;
        if self.written >= self.header.count {
            return Err(DatasetError::CountMismatch {
                expected: self.header.count,
                written: self.written + 1,
            });
        }
        let crc = crc32fast::hash(bytes);
        let io = |source| DatasetError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.write_all(&len.to_le_bytes()).map_err(io)?;
        self.out.write_all(bytes).map_err(io)?;
        self.out.write_all(&crc.to_le_bytes()).map_err(io)?;
        self.written += 1;
        Ok(())
    }

    /// Checks that the announced number of records was written and flushes.
    pub fn finish(mut self) -> Result<W> {
        if self.written != self.header.count {
            return Err(DatasetError::CountMismatch {
                expected: self.header.count,
                written: self.written,
            });
        }
        self.out.flush().map_err(|source| DatasetError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.out)
    }
}

/// Reads a population file as a stream of records.
///
/// Iterating yields each record in file order; a damaged record (bad
/// checksum, undecodable bytes, early end of file) yields one error and ends
/// the stream.
#[derive(Debug)]
pub struct PopulationReader<R: Read> {
    input: R,
    header: PopulationHeader,
    read: u64,
    failed: bool,
    path: PathBuf,
    buf: Vec<u8>,
}

impl PopulationReader<BufReader<File>> {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(BufReader::with_capacity(1 << 20, file), path)
    }
}

impl<R: Read> PopulationReader<R> {
    /// Reads the header from `input`; `path` only names the source in errors.
    pub fn new(mut input: R, path: &Path) -> Result<Self> {
        let mut b = [0u8; HEADER_BYTES];
        input.read_exact(&mut b).map_err(|source| {
            if source.kind() == ErrorKind::UnexpectedEof {
                DatasetError::Truncated {
                    expected: 0,
                    found: 0,
                }
            } else {
                DatasetError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        let header = PopulationHeader::from_bytes(&b)?;
        Ok(Self {
            input,
            header,
            read: 0,
            failed: false,
            path: path.to_path_buf(),
            buf: Vec::new(),
        })
    }

    pub fn header(&self) -> PopulationHeader {
        self.header
    }

    /// Reads the next record's encoded bytes (checksum verified), or `None`
    /// after the last one.
    pub fn next_encoded(&mut self) -> Option<Result<&[u8]>> {
        if self.failed || self.read >= self.header.count {
            return None;
        }
        match self.fill() {
            Ok(()) => {
                self.read += 1;
                Some(Ok(&self.buf))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn fill(&mut self) -> Result<()> {
        let index = self.read;
        let (expected, path) = (self.header.count, &self.path);
        let io = |source: std::io::Error| {
            if source.kind() == ErrorKind::UnexpectedEof {
                DatasetError::Truncated {
                    expected,
                    found: index,
                }
            } else {
                DatasetError::Io {
                    path: path.clone(),
                    source,
                }
            }
        };
        let mut word = [0u8; 4];
        self.input.read_exact(&mut word).map_err(io)?;
        let len = u32::from_le_bytes(word);
        if len > MAX_RECORD_BYTES {
            return Err(DatasetError::RecordTooLong {
                index,
                len,
                max: MAX_RECORD_BYTES,
            });
        }
        self.buf.resize(len as usize, 0);
        self.input.read_exact(&mut self.buf).map_err(io)?;
        self.input.read_exact(&mut word).map_err(io)?;
        let stored = u32::from_le_bytes(word);
        let computed = crc32fast::hash(&self.buf);
        if stored != computed {
            return Err(DatasetError::Checksum {
                index,
                stored,
                computed,
            });
        }
        Ok(())
    }
}

impl<R: Read> Iterator for PopulationReader<R> {
    type Item = Result<EnrollmentRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        let index = self.read;
        let item = match self.next_encoded()? {
            Ok(bytes) => {
                decode_record(bytes).map_err(|source| DatasetError::Record { index, source })
            }
            Err(e) => Err(e),
        };
        if item.is_err() {
            self.failed = true;
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.failed {
            return (0, Some(0));
        }
        let left = usize::try_from(self.header.count - self.read).unwrap_or(usize::MAX);
        (0, Some(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Population, PopulationConfig};
    use hoviyat_models::binary::canonicalize;

    fn file(pop: &Population) -> Vec<u8> {
        let header = PopulationHeader {
            seed: pop.config().seed,
            count: pop.len(),
            face_dim: 512,
        };
        let mut w = PopulationWriter::new(Vec::new(), header, Path::new("mem")).unwrap();
        for i in 0..pop.len() {
            w.write(&pop.identity(i)).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn records_round_trip_through_a_population_file() {
        let pop = Population::new(PopulationConfig::new(7, 6)).unwrap();
        let bytes = file(&pop);
        assert_eq!(bytes, file(&pop), "same seed, same bytes");
        let reader = PopulationReader::new(bytes.as_slice(), Path::new("mem")).unwrap();
        assert_eq!(reader.header().count, 6);
        assert_eq!(reader.header().seed, 7);
        let back: Vec<EnrollmentRecord> = reader.collect::<Result<_>>().unwrap();
        assert_eq!(back.len(), 6);
        for (i, r) in back.iter().enumerate() {
            assert_eq!(*r, canonicalize(&pop.identity(i as u64)).unwrap());
        }
    }

    #[test]
    fn damage_is_reported_not_swallowed() {
        let pop = Population::new(PopulationConfig::new(7, 3)).unwrap();
        let bytes = file(&pop);
        // Truncated in the middle of the last record.
        let cut = &bytes[..bytes.len() - 10];
        let items: Vec<_> = PopulationReader::new(cut, Path::new("m"))
            .unwrap()
            .collect();
        assert_eq!(items.len(), 3);
        assert!(matches!(
            items[2],
            Err(DatasetError::Truncated {
                expected: 3,
                found: 2
            })
        ));
        // A flipped byte inside the first record.
        let mut bad = bytes.clone();
        bad[HEADER_BYTES + 20] ^= 0x40;
        let mut r = PopulationReader::new(bad.as_slice(), Path::new("m")).unwrap();
        assert!(matches!(
            r.next(),
            Some(Err(DatasetError::Checksum { index: 0, .. }))
        ));
        assert!(r.next().is_none(), "the stream ends after an error");
        // A huge declared length is refused before anything is allocated.
        let mut huge = bytes[..HEADER_BYTES].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut r = PopulationReader::new(huge.as_slice(), Path::new("m")).unwrap();
        assert!(matches!(
            r.next(),
            Some(Err(DatasetError::RecordTooLong { .. }))
        ));
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert!(matches!(
            PopulationReader::new(magic.as_slice(), Path::new("m")),
            Err(DatasetError::BadMagic { .. })
        ));
    }

    #[test]
    fn the_committed_version_1_sample_still_opens() {
        // Written by `hoviyat synth population --identities 3 --seed 2026
        // --face-dim 8` when version 1 was current; never regenerate it.
        let bytes = include_bytes!("../testdata/population-v1.hvp");
        let reader = PopulationReader::new(bytes.as_slice(), Path::new("sample")).unwrap();
        assert_eq!(
            reader.header(),
            PopulationHeader {
                seed: 2026,
                count: 3,
                face_dim: 8
            }
        );
        let records: Vec<EnrollmentRecord> = reader.collect::<Result<_>>().unwrap();
        assert_eq!(records.len(), 3);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.reference_id, format!("synth-2026-{i:08}"));
            r.validate(Some(8)).unwrap();
            assert_eq!(r.fingers.len() + r.missing.len(), 10);
        }
    }

    #[test]
    fn writer_refuses_more_or_fewer_records_than_announced() {
        let pop = Population::new(PopulationConfig::new(1, 2)).unwrap();
        let header = PopulationHeader {
            seed: 1,
            count: 1,
            face_dim: 512,
        };
        let mut w = PopulationWriter::new(Vec::new(), header, Path::new("m")).unwrap();
        w.write(&pop.identity(0)).unwrap();
        assert!(matches!(
            w.write(&pop.identity(1)),
            Err(DatasetError::CountMismatch { .. })
        ));
        let w = PopulationWriter::new(Vec::new(), header, Path::new("m")).unwrap();
        assert!(matches!(
            w.finish(),
            Err(DatasetError::CountMismatch {
                expected: 1,
                written: 0
            })
        ));
    }
}
