//! `hoviyat gallery`: create, inspect, import into and maintain a gallery
//! directory. Every write goes through [`Abis`], the gallery's one writer;
//! an import into a data directory's gallery is recorded in its audit log.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hoviyat_datasets::popfile::{self, PopulationReader};
use hoviyat_engine::EngineError;
use hoviyat_engine::abis::{Abis, AbisConfig, ImportSummary};
use hoviyat_engine::models::EnrollmentRecord;
use hoviyat_engine::store::Gallery;
use hoviyat_server::app::GALLERY_DIR;
use hoviyat_server::audit::{AuditEvent, AuditLog};
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `hoviyat gallery`.
#[derive(Debug, Args)]
pub struct GalleryArgs {
    #[command(subcommand)]
    command: GalleryCommand,
}

#[derive(Debug, Subcommand)]
enum GalleryCommand {
    /// Print counts and sizes of a gallery.
    Stats {
        /// The gallery directory.
        #[arg(long)]
        data: PathBuf,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Bulk-import enrollment records: JSON lines of EnrollmentRecord, or a
    /// population file of `hoviyat synth population`. Creates the gallery if
    /// the directory holds none. Into the `gallery/` of a data directory (what
    /// `hoviyat serve --data DIR` uses), the import is recorded in DIR's
    /// audit log (an entry before it stores anything, one with its outcome),
    /// and refused if that log's end does not match its head.
    Import {
        /// The gallery directory (`DIR/gallery` for a service's data directory).
        #[arg(long)]
        data: PathBuf,
        /// The file to import; its format is detected from its content.
        file: PathBuf,
        /// Face dimension of a new gallery (default: the first record's face).
        #[arg(long)]
        face_dim: Option<usize>,
        /// Face model name of a new gallery (default: the first record's).
        #[arg(long)]
        face_model: Option<String>,
        /// Records per group commit.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Print the summary as one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Who imports, as the audit entry records it (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// Check every checksum of every segment (reads the whole gallery).
    Verify {
        #[arg(long)]
        data: PathBuf,
        /// Print one JSON object (`gallery`, `checksums_match`) on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Seal the log and rewrite all segments into one, dropping deleted rows'
    /// templates.
    Compact {
        #[arg(long)]
        data: PathBuf,
    },
}

/// Runs `hoviyat gallery`.
pub fn run(args: GalleryArgs) -> anyhow::Result<()> {
    match args.command {
        GalleryCommand::Stats { data, json } => stats(&data, json),
        GalleryCommand::Import {
            data,
            file,
            face_dim,
            face_model,
            batch,
            json,
            by,
        } => import(
            &data,
            &file,
            NewGallery {
                face_dim,
                face_model,
            },
            batch,
            json,
            by,
        ),
        GalleryCommand::Verify { data, json } => {
            let g = Gallery::open_read_only(&data)?;
            g.verify()?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"gallery": data.display().to_string(), "checksums_match": true})
                );
            } else {
                eprintln!("{}: all checksums match", data.display());
            }
            Ok(())
        }
        GalleryCommand::Compact { data } => {
            // Through the facade: decisions and compaction never interleave.
            Abis::open_existing(&data, &AbisConfig::default())?.compact()?;
            eprintln!("{}: compacted", data.display());
            Ok(())
        }
    }
}

fn stats(data: &Path, json: bool) -> anyhow::Result<()> {
    let g = Gallery::open_read_only(data)?;
    let s = g.stats()?;
    if json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!(
            "identities {}  searchable {}  fingers {}  faces {}  deleted {}\n\
             {} bytes on disk, {:.0} bytes per identity, {} segments, {} unsealed rows, format version {}",
            s.identities,
            s.searchable,
            s.fingers,
            s.faces,
            s.deleted,
            s.bytes_on_disk,
            s.bytes_per_identity,
            s.segments,
            s.unsealed_rows,
            s.format_version
        );
    }
    Ok(())
}

/// A reader that counts the bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Input formats `gallery import` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Population,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::Population => "population",
        }
    }

    /// What a skipped item is called in messages.
    fn unit(self) -> &'static str {
        match self {
            Format::JsonLines => "line",
            Format::Population => "record",
        }
    }
}

/// Detects the format from the first bytes (never from the file name).
fn detect(head: &[u8]) -> Option<Format> {
    // The magic without its version byte: a population file of another
    // version is then refused by the reader with a precise reason.
    if head.starts_with(&popfile::MAGIC[..6]) {
        return Some(Format::Population);
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace())?;
    (*first == b'{').then_some(Format::JsonLines)
}

type Items = Box<dyn Iterator<Item = (u64, Result<EnrollmentRecord, String>)>>;

/// Records of a population file, numbered from 1; a damaged record ends
/// the stream with one error item.
/// Where a population file's first read error goes: the reader stops at it
/// (a cut or damaged file), so the import is then incomplete, not merely
/// short of a bad record.
type Damage = Arc<std::sync::Mutex<Option<String>>>;

/// The records of a population file, its face dimension and its
/// [`Damage`].
fn population(reader: impl Read + 'static, path: &Path) -> anyhow::Result<(Items, u32, Damage)> {
    let reader = PopulationReader::new(reader, path)
        .with_context(|| format!("reading the header of {}", path.display()))?;
    let face_dim = reader.header().face_dim;
    let damage = Arc::new(std::sync::Mutex::new(None));
    let seen = Arc::clone(&damage);
    let items = reader.enumerate().map(move |(i, r)| {
        let r = r.map_err(|e| e.to_string());
        if let Err(reason) = &r {
            let mut first = seen.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| reason.clone());
        }
        (i as u64 + 1, r)
    });
    Ok((Box::new(items), face_dim, damage))
}

fn json_lines(
    reader: impl BufRead,
) -> impl Iterator<Item = (u64, Result<EnrollmentRecord, String>)> {
    reader
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let parsed = line
                .map_err(|e| format!("unreadable line: {e}"))
                .and_then(|l| {
                    if l.trim().is_empty() {
                        Err(String::new())
                    } else {
                        serde_json::from_str::<EnrollmentRecord>(&l).map_err(|e| e.to_string())
                    }
                });
            (i as u64 + 1, parsed)
        })
        // Blank lines are not records.
        .filter(|(_, r)| !matches!(r, Err(reason) if reason.is_empty()))
}

/// Face settings of a gallery that the import creates.
#[derive(Debug, Default)]
struct NewGallery {
    face_dim: Option<usize>,
    face_model: Option<String>,
}

/// The data directory whose audit log records writes to the gallery in
/// `gallery`: its parent when it is a data directory's `gallery/` (the
/// layout `hoviyat serve` uses), else none.
fn audit_dir(gallery: &Path) -> Option<PathBuf> {
    if gallery.file_name()? != GALLERY_DIR {
        return None;
    }
    let parent = gallery.parent()?;
    Some(if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent.to_path_buf()
    })
}

/// The audit entry of an import: the source, the counts and the range of
/// lines (or records) read. `stopped` says why an import ended early.
fn import_event(
    by: &str,
    file: &Path,
    format: Format,
    summary: &ImportSummary,
    stopped: Option<&str>,
    identities: Option<u64>,
    started: Option<u64>,
) -> AuditEvent {
    let source = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    let range = if summary.read == 0 {
        format!("no {}s", format.unit())
    } else {
        format!("{}s 1..={}", format.unit(), summary.last_line)
    };
    let mut comment = format!(
        "{} ({}, {bytes} bytes): {range}; read {}, imported {}, skipped {}",
        source.display(),
        format.name(),
        summary.read,
        summary.imported,
        summary.skipped,
    );
    if let Some(reason) = stopped {
        comment.push_str(&format!("; stopped early: {reason}"));
    }
    AuditEvent {
        actor_name: by.to_owned(),
        endpoint: "hoviyat gallery import".into(),
        gallery_size: identities,
        outcome: if stopped.is_some() {
            "import_stopped".into()
        } else {
            "imported".into()
        },
        comment: Some(comment),
        refers_to: started,
        ..AuditEvent::default()
    }
}

/// The entry written before an import stores anything: if the import is
/// killed part way, the log still says that one began, from which source
/// and by whom (the gallery holds what it stored).
fn import_started_event(by: &str, file: &Path, format: Format) -> AuditEvent {
    let source = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    AuditEvent {
        actor_name: by.to_owned(),
        endpoint: "hoviyat gallery import".into(),
        outcome: "import_started".into(),
        comment: Some(format!(
            "{} ({}, {bytes} bytes)",
            source.display(),
            format.name()
        )),
        ..AuditEvent::default()
    }
}

fn import(
    data: &Path,
    file: &Path,
    new: NewGallery,
    batch: usize,
    json: bool,
    by: Option<String>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut f = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = [0u8; 64];
    let n = f.read(&mut head)?;
    let Some(format) = detect(&head[..n]) else {
        bail!(
            "{}: not a recognised record file (expected JSON lines of enrollment records or a population file)",
            file.display()
        );
    };
    let read = Arc::new(AtomicU64::new(0));
    let f = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let reader = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: f,
            read: Arc::clone(&read),
        },
    );
    let mut damage = None;
    let (mut records, header_dim): (Items, Option<usize>) = match format {
        Format::JsonLines => (Box::new(json_lines(reader)), None),
        Format::Population => {
            let (items, dim, seen) = population(reader, file)?;
            damage = Some(seen);
            (items, (dim > 0).then_some(dim as usize))
        }
    };

    // An existing gallery is opened (and locked: a running service keeps
    // the import out) before its data directory's audit log; the log is
    // checked before a new gallery is created. A log whose end does not
    // match its head is refused, as `hoviyat serve` refuses it.
    let existing = if data.join(hoviyat_engine::store::MANIFEST_FILE).exists() {
        Some(Abis::open_existing(data, &AbisConfig::default())?)
    } else {
        None
    };
    let audit = match audit_dir(data) {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the data directory {}", dir.display()))?;
            Some(
                AuditLog::open(&dir)
                    .with_context(|| format!("the audit log of {}", dir.display()))?,
            )
        }
        None => {
            tracing::warn!(
                dir = %data.display(),
                "not the gallery/ of a data directory: the import is not audited"
            );
            None
        }
    };
    // A new gallery takes its face dimension from the first record with a face.
    let mut lookahead = Vec::new();
    let abis = match existing {
        Some(abis) => abis,
        None => {
            let mut dim = new.face_dim.or(header_dim);
            let mut model = new.face_model;
            if dim.is_none() {
                for item in records.by_ref() {
                    let face = item.1.as_ref().ok().and_then(|r| r.face.clone());
                    lookahead.push(item);
                    if let Some(face) = face {
                        dim = Some(face.dim);
                        model = model.or(Some(face.model));
                        break;
                    }
                    if lookahead.len() >= 10_000 {
                        break;
                    }
                }
            }
            tracing::info!(dir = %data.display(), face_dim = ?dim, "creating a new gallery");
            Abis::open(
                data,
                &AbisConfig {
                    face_dim: dim,
                    face_model: model,
                    face_mean: None,
                    ..AbisConfig::default()
                },
            )?
        }
    };

    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let by = by
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    let started_entry = match &audit {
        Some(log) => Some(
            log.append(import_started_event(&by, file, format))
                .context("the audit entry that opens the import could not be written; nothing was imported")?,
        ),
        None => None,
    };
    // What was stored so far, for the audit entry of an import that stops.
    let mut last = ImportSummary::default();
    let summary = abis.import_records(
        lookahead.into_iter().chain(records),
        batch,
        |line, reason| {
            let msg = format!("{} {line}: skipped: {reason}", format.unit());
            // A hidden bar (stderr not a terminal) swallows println.
            if bar.is_hidden() {
                eprintln!("{msg}");
            } else {
                bar.println(msg);
            }
        },
        |s| {
            last = s.clone();
            bar.set_position(read.load(Ordering::Relaxed));
            bar.set_message(format!("{} imported, {} skipped", s.imported, s.skipped));
        },
    );
    bar.finish_and_clear();
    let sealed = summary.as_ref().ok().map(|_| abis.seal());
    let identities = abis.gallery_stats().ok().map(|s| s.identities);
    // The entry says what was stored, also when the import stopped early.
    let (recorded, stopped) = match &summary {
        Ok(s) => (s.clone(), None),
        Err(e) => {
            let mut stored = last;
            if let EngineError::ImportAborted {
                stored: n, line, ..
            } = e
            {
                stored.imported = *n;
                stored.last_line = *line;
            }
            (stored, Some(e.to_string()))
        }
    };
    let entry = match &audit {
        Some(log) => {
            let event = import_event(
                &by,
                file,
                format,
                &recorded,
                stopped.as_deref(),
                identities,
                started_entry.as_ref().map(|e| e.seq),
            );
            Some(log.append(event).with_context(|| {
                format!(
                    "{} records were imported but their audit entry could not be written",
                    recorded.imported
                )
            })?)
        }
        _ => None,
    };
    let summary = summary?;
    if let Some(sealed) = sealed {
        sealed?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = abis.gallery_stats()?;
    eprintln!(
        "{}: imported {} of {} records ({} skipped) in {:.1} s; the gallery holds {} identities{}",
        file.display(),
        summary.imported,
        summary.read,
        summary.skipped,
        seconds,
        stats.identities,
        entry
            .as_ref()
            .map(|e| format!("; audit entry {}", e.seq))
            .unwrap_or_default()
    );
    if json {
        println!(
            "{}",
            serde_json::json!({
                "file": file.display().to_string(),
                "format": format.name(),
                "read": summary.read,
                "imported": summary.imported,
                "skipped": summary.skipped,
                "seconds": seconds,
                "records_per_second": summary.imported as f64 / seconds.max(1e-9),
                "identities": stats.identities,
                "audit_seq": entry.map(|e| e.seq),
            })
        );
    }
    let damaged = damage.and_then(|d| d.lock().unwrap_or_else(|p| p.into_inner()).take());
    if let Some(reason) = damaged {
        bail!(
            "{}: damaged after {} records ({reason}); those were imported as reported, the rest could not be read",
            file.display(),
            summary.read.saturating_sub(1)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_from_content() {
        assert_eq!(detect(b"  \n{\"reference_id\":"), Some(Format::JsonLines));
        assert_eq!(detect(b"PK\x03\x04"), None);
        assert_eq!(detect(&popfile::MAGIC), Some(Format::Population));
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn json_lines_keep_line_numbers_and_skip_blank_lines() {
        let input = "{\"reference_id\":\"a\",\"fingers\":[]}\n\nnot json\n";
        let got: Vec<_> = json_lines(input.as_bytes()).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 1);
        assert!(got[0].1.is_ok());
        assert_eq!(got[1].0, 3);
        assert!(got[1].1.is_err());
    }
}
