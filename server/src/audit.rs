//! The audit log: an append-only, hash-chained record of every identify,
//! verify, enrollment, adjudication and delete.
//!
//! `audit.log` in the data directory holds one JSON object per line. Each
//! entry carries `prev_sha256`, the SHA-256 of the previous line's bytes (64
//! zeros for the first), so editing or removing any entry breaks the chain at
//! the next one. `audit.head` holds the sequence number and hash of the last
//! line, so that cutting entries off the end is detected too. Every append
//! is fsynced before the request is answered.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub const LOG_FILE: &str = "audit.log";
pub const HEAD_FILE: &str = "audit.head";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A candidate as the log records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditCandidate {
    pub reference_id: String,
    pub score: f64,
}

/// What happened, as the caller of [`AuditLog::append`] describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    /// Key id of the caller.
    pub actor_key_id: String,
    /// Name of the caller's key.
    pub actor_name: String,
    /// Method and route, e.g. `POST /v1/identify`.
    pub endpoint: String,
    /// The enrollment acted on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    /// SHA-256 of the probe's canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_sha256: Option<String>,
    /// Identities searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gallery_size: Option<u64>,
    #[serde(default)]
    pub candidates: Vec<AuditCandidate>,
    /// The result: a status, a verdict, `match`/`no_match`, `deleted`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// 1, 2, 3, ... without gaps.
    pub seq: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    /// SHA-256 (hex) of the previous line.
    pub prev_sha256: String,
    #[serde(flatten)]
    pub event: AuditEvent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    seq: u64,
    sha256: String,
}

/// Why the log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit entry could not be encoded: {0}")]
    Encode(serde_json::Error),
}

/// A break in the chain, found by [`verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainBreak {
    /// 1-based line number in `audit.log` (0: the head file).
    pub line: u64,
    pub reason: String,
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    /// SHA-256 of the last line (the chain's head).
    pub head_sha256: String,
    pub intact: bool,
    pub first_break: Option<ChainBreak>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Walks the chain of the log in `data_dir` and checks it against the head.
pub fn verify(data_dir: &Path) -> Result<VerifyReport, AuditError> {
    let path = data_dir.join(LOG_FILE);
    let file = match File::open(&path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&path)(e)),
    };
    let mut prev = GENESIS.to_owned();
    let mut entries = 0u64;
    let mut first_break = None;
    if let Some(file) = file {
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io_err(&path))?;
            if n == 0 {
                break;
            }
            let lineno = entries + 1;
            let complete = line.last() == Some(&b'\n');
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            let reason = if !complete {
                Some("last line is incomplete".to_owned())
            } else {
                match serde_json::from_slice::<AuditEntry>(body) {
                    Err(e) => Some(format!("not a valid entry: {e}")),
                    Ok(entry) if entry.seq != lineno => {
                        Some(format!("sequence {} where {lineno} expected", entry.seq))
                    }
                    Ok(entry) if entry.prev_sha256 != prev => Some(
                        "prev_sha256 does not match the previous line: an entry was edited or removed"
                            .to_owned(),
                    ),
                    Ok(_) => None,
                }
            };
            if let Some(reason) = reason
                && first_break.is_none()
            {
                first_break = Some(ChainBreak {
                    line: lineno,
                    reason,
                });
            }
            prev = sha256_hex(body);
            entries += 1;
        }
    }
    if first_break.is_none() {
        let head = read_head(data_dir)?;
        let reason = match head {
            None if entries == 0 => None,
            None => Some("audit.head is missing".to_owned()),
            Some(h) if h.seq != entries || h.sha256 != prev => Some(format!(
                "audit.head names entry {} but the log ends at entry {entries}: entries were removed or edited at the end",
                h.seq
            )),
            Some(_) => None,
        };
        first_break = reason.map(|reason| ChainBreak { line: 0, reason });
    }
    Ok(VerifyReport {
        entries,
        head_sha256: prev,
        intact: first_break.is_none(),
        first_break,
    })
}

fn read_head(data_dir: &Path) -> Result<Option<Head>, AuditError> {
    let path = data_dir.join(HEAD_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

#[derive(Debug)]
struct Tail {
    file: File,
    seq: u64,
    prev: String,
}

/// The open log of a running service.
#[derive(Debug)]
pub struct AuditLog {
    dir: PathBuf,
    tail: Mutex<Tail>,
}

impl AuditLog {
    /// Opens (or creates) the log of `data_dir`. An incomplete last line is
    /// cut off: its append never returned, so no request was answered on it.
    pub fn open(data_dir: &Path) -> Result<Self, AuditError> {
        let path = data_dir.join(LOG_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0)).map_err(io_err(&path))?;
        file.read_to_end(&mut bytes).map_err(io_err(&path))?;
        let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete_len < bytes.len() {
            tracing::warn!(
                dropped_bytes = bytes.len() - complete_len,
                "audit log ends in an incomplete line; cutting it off"
            );
            file.set_len(complete_len as u64).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            bytes.truncate(complete_len);
        }
        let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        let (seq, prev) = match body.iter().rposition(|&b| b == b'\n') {
            _ if body.is_empty() => (0, GENESIS.to_owned()),
            pos => {
                let last = &body[pos.map_or(0, |p| p + 1)..];
                let seq = serde_json::from_slice::<AuditEntry>(last)
                    .map(|e| e.seq)
                    .unwrap_or_else(|_| body.iter().filter(|&&b| b == b'\n').count() as u64 + 1);
                (seq, sha256_hex(last))
            }
        };
        let log = Self {
            dir: data_dir.to_owned(),
            tail: Mutex::new(Tail { file, seq, prev }),
        };
        // A crash between the log's fsync and the head's rename leaves the
        // head one entry behind; bring it up to date.
        if seq > 0 {
            let head = read_head(data_dir)?;
            let tail = log.tail.lock().unwrap_or_else(|p| p.into_inner());
            if head.as_ref().is_none_or(|h| h.seq + 1 == seq) {
                log.write_head(&tail)?;
            } else if head.as_ref().is_some_and(|h| h.seq != seq) {
                tracing::error!("audit.head does not match audit.log; run `hoviyat audit verify`");
            }
        }
        Ok(log)
    }

    fn write_head(&self, tail: &Tail) -> Result<(), AuditError> {
        let path = self.dir.join(HEAD_FILE);
        let head = Head {
            seq: tail.seq,
            sha256: tail.prev.clone(),
        };
        let bytes = serde_json::to_vec(&head).map_err(AuditError::Encode)?;
        crate::fsutil::write_atomic(&path, &bytes).map_err(io_err(&path))
    }

    /// Appends `event`, durably, and returns its entry. Blocking.
    pub fn append(&self, event: AuditEvent) -> Result<AuditEntry, AuditError> {
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let entry = AuditEntry {
            seq: tail.seq + 1,
            at: jiff::Timestamp::now(),
            prev_sha256: tail.prev.clone(),
            event,
        };
        let mut line = serde_json::to_vec(&entry).map_err(AuditError::Encode)?;
        let hash = sha256_hex(&line);
        line.push(b'\n');
        let path = self.dir.join(LOG_FILE);
        tail.file.write_all(&line).map_err(io_err(&path))?;
        tail.file.sync_data().map_err(io_err(&path))?;
        tail.seq = entry.seq;
        tail.prev = hash;
        self.write_head(&tail)?;
        Ok(entry)
    }

    /// Entries with `seq > after`, at most `limit`. Blocking.
    pub fn read(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let path = self.dir.join(LOG_FILE);
        let file = File::open(&path).map_err(io_err(&path))?;
        let mut out = Vec::new();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(io_err(&path))?;
            if let Ok(entry) = serde_json::from_str::<AuditEntry>(&line)
                && entry.seq > after
            {
                out.push(entry);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// SHA-256 (hex) of a probe's canonical JSON: what the log records instead
/// of the biometric data itself.
pub fn probe_sha256<T: Serialize>(probe: &T) -> String {
    sha256_hex(&serde_json::to_vec(probe).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: usize) -> AuditEvent {
        AuditEvent {
            actor_key_id: "k1".into(),
            actor_name: "alice".into(),
            endpoint: "POST /v1/identify".into(),
            probe_sha256: Some(format!("{i:064}")),
            gallery_size: Some(i as u64),
            candidates: vec![AuditCandidate {
                reference_id: format!("ref-{i}"),
                score: 0.5,
            }],
            outcome: "ok".into(),
            ..AuditEvent::default()
        }
    }

    fn write(dir: &Path, n: usize) {
        let log = AuditLog::open(dir).unwrap();
        for i in 0..n {
            log.append(event(i)).unwrap();
        }
    }

    fn lines(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join(LOG_FILE))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn rewrite(dir: &Path, lines: &[String]) {
        let mut s = lines.join("\n");
        s.push('\n');
        std::fs::write(dir.join(LOG_FILE), s).unwrap();
    }

    #[test]
    fn an_untouched_log_verifies_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 3);
        write(dir.path(), 2);
        let report = verify(dir.path()).unwrap();
        assert!(report.intact, "{report:?}");
        assert_eq!(report.entries, 5);
        let log = AuditLog::open(dir.path()).unwrap();
        let read = log.read(3, 10).unwrap();
        assert_eq!(read.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5]);
    }

    #[test]
    fn an_edited_entry_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 4);
        let mut l = lines(dir.path());
        l[1] = l[1].replace("ref-1", "ref-X");
        rewrite(dir.path(), &l);
        let report = verify(dir.path()).unwrap();
        assert!(!report.intact);
        assert_eq!(report.first_break.unwrap().line, 3);
    }

    #[test]
    fn a_removed_entry_is_detected_in_the_middle_and_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 4);
        let l = lines(dir.path());
        let mut middle = l.clone();
        middle.remove(1);
        rewrite(dir.path(), &middle);
        assert!(!verify(dir.path()).unwrap().intact);

        rewrite(dir.path(), &l[..3]);
        let report = verify(dir.path()).unwrap();
        assert!(!report.intact);
        assert_eq!(report.first_break.unwrap().line, 0);
    }

    #[test]
    fn an_edited_last_entry_is_detected_through_the_head() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 2);
        let mut l = lines(dir.path());
        l[1] = l[1].replace("alice", "mallory");
        rewrite(dir.path(), &l);
        assert!(!verify(dir.path()).unwrap().intact);
    }

    #[test]
    fn a_torn_last_line_is_cut_off_on_open_and_the_chain_continues() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 2);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(LOG_FILE))
            .unwrap();
        f.write_all(b"{\"seq\":3,\"at\"").unwrap();
        drop(f);
        write(dir.path(), 1);
        let report = verify(dir.path()).unwrap();
        assert!(report.intact, "{report:?}");
        assert_eq!(report.entries, 3);
    }
}
