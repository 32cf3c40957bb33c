//! The audit log: an append-only, hash-chained record of every identify,
//! verify, enrollment, adjudication, delete and read of a kept finger image.
//!
//! `audit.log` in the data directory holds one JSON object per line. Each
//! entry carries `prev_sha256`, the SHA-256 of the previous line's bytes (64
//! zeros for the first), so editing or removing any entry breaks the chain at
//! the next one. `audit.head` holds the sequence number and hash of the last
//! line, so that cutting entries off the end is detected too. Every append
//! is fsynced before the request is answered.
//!
//! Decisions (enrollment, adjudication, delete) are appended by the engine
//! under its decision lock, after the decision is taken and before it is
//! stored (see [`Decisions`]), so a stored decision always has its entry. A
//! failed append is cut back to the last whole entry and the decision is not
//! stored. On start, a log whose head does not match `audit.head` is refused
//! ([`AuditError::HeadMismatch`]), and a last decision that was recorded but
//! never stored (the process died in between) gets a `not_stored` entry.
//!
//! Test-only fault injection: when the environment variable
//! [`FAULT_SWITCH_ENV`] names a file, every append made while that file
//! exists fails half-way through its line, as on a full disk.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use hoviyat_engine::abis::{Decision, DecisionKind, DecisionLog, DecisionLogError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub const LOG_FILE: &str = "audit.log";
pub const HEAD_FILE: &str = "audit.head";
/// Names a file whose existence makes appends fail (fault injection for
/// tests and `hoviyat bench chaos`; never set it in production).
pub const FAULT_SWITCH_ENV: &str = "HOVIYAT_TEST_AUDIT_FAULT_FILE";
/// The outcome of the entry that says a recorded decision was not stored.
pub const NOT_STORED: &str = "not_stored";
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
    /// Set on the entry of a decision (recorded before it is stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<AuditDecision>,
    /// The entry a `not_stored` entry is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<u64>,
}

impl AuditEvent {
    /// An event of `caller` at `endpoint` (method and route); the other
    /// fields are filled in by the caller or left empty.
    pub fn by(caller: &crate::keys::Caller, endpoint: &str) -> Self {
        Self {
            actor_key_id: caller.key_id.clone(),
            actor_name: caller.name.clone(),
            endpoint: endpoint.to_string(),
            ..Self::default()
        }
    }
}

/// What a decision entry decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditDecision {
    Enroll,
    Adjudicate,
    Delete,
}

impl From<DecisionKind> for AuditDecision {
    fn from(k: DecisionKind) -> Self {
        match k {
            DecisionKind::Enroll => Self::Enroll,
            DecisionKind::Adjudicate => Self::Adjudicate,
            DecisionKind::Delete => Self::Delete,
        }
    }
}

impl From<AuditDecision> for DecisionKind {
    fn from(k: AuditDecision) -> Self {
        match k {
            AuditDecision::Enroll => Self::Enroll,
            AuditDecision::Adjudicate => Self::Adjudicate,
            AuditDecision::Delete => Self::Delete,
        }
    }
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
    /// `audit.head` names another last entry than the log holds: entries
    /// were cut off or edited at the end. The service refuses to start.
    #[error(
        "audit.head names entry {head_seq} (sha256 {head_sha256}) but audit.log ends at entry \
         {log_seq} (sha256 {log_sha256}) in {dir}: entries were removed or edited at the end. \
         Restore audit.log from a copy, or, once investigated, record the loss with \
         `hoviyat audit reanchor --data {dir}`"
    )]
    HeadMismatch {
        dir: PathBuf,
        head_seq: u64,
        head_sha256: String,
        log_seq: u64,
        log_sha256: String,
    },
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

/// A head recorded outside the data directory (`hoviyat audit head`): the
/// log must still hold this entry with this hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: u64,
    pub sha256: String,
}

impl std::str::FromStr for Anchor {
    type Err = String;
    /// `SEQ:SHA256`, as `hoviyat audit head` prints it.
    fn from_str(s: &str) -> Result<Self, String> {
        let (seq, sha) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: expected SEQ:SHA256"))?;
        let seq = seq
            .parse()
            .map_err(|e| format!("{seq:?}: not a sequence number: {e}"))?;
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{sha:?}: expected 64 hex digits"));
        }
        Ok(Self {
            seq,
            sha256: sha.to_ascii_lowercase(),
        })
    }
}

/// Walks the chain of the log in `data_dir` and checks it against the head.
pub fn verify(data_dir: &Path) -> Result<VerifyReport, AuditError> {
    verify_anchored(data_dir, None)
}

/// [`verify`], and checks that the log still holds `anchor`: an anchor kept
/// elsewhere finds a cut-off end even when `audit.head` was rewritten too.
pub fn verify_anchored(
    data_dir: &Path,
    anchor: Option<&Anchor>,
) -> Result<VerifyReport, AuditError> {
    verify_chain(data_dir, anchor, None)
}

/// The walk of [`verify_anchored`]; `upto` limits it to the first bytes of
/// the log and gives the head to check them against (read together while
/// no append runs), else the whole log is walked and the head read after.
fn verify_chain(
    data_dir: &Path,
    anchor: Option<&Anchor>,
    upto: Option<(u64, Option<Head>)>,
) -> Result<VerifyReport, AuditError> {
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
        let limit = upto.as_ref().map_or(u64::MAX, |(len, _)| *len);
        let mut reader = BufReader::new(file.take(limit));
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
            if let Some(a) = anchor
                && a.seq == lineno
                && a.sha256 != prev
                && first_break.is_none()
            {
                first_break = Some(ChainBreak {
                    line: lineno,
                    reason: format!(
                        "the anchored head names entry {} with sha256 {}; the log's entry {lineno} has {prev}",
                        a.seq, a.sha256
                    ),
                });
            }
        }
    }
    if let Some(a) = anchor
        && a.seq > entries
        && first_break.is_none()
    {
        first_break = Some(ChainBreak {
            line: 0,
            reason: format!(
                "the anchored head names entry {} but the log ends at entry {entries}: entries were removed at the end",
                a.seq
            ),
        });
    }
    if first_break.is_none() {
        let head = match upto {
            Some((_, head)) => head,
            None => read_head(data_dir)?,
        };
        let reason = match head {
            None if entries == 0 => None,
            None if data_dir.join(HEAD_FILE).exists() => {
                Some("audit.head is not a head (a sequence number and a SHA-256)".to_owned())
            }
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
    /// Bytes of whole entries: where the file is cut back to after a
    /// failed append.
    len: u64,
    /// An append failed and the file could not be cut back yet.
    torn: bool,
}

/// The last decision entry of a log and whether anything resolved it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastDecision {
    pub seq: u64,
    pub kind: AuditDecision,
    pub reference_id: String,
}

/// The open log of a running service.
#[derive(Debug)]
pub struct AuditLog {
    dir: PathBuf,
    tail: Mutex<Tail>,
    faults: FaultSwitch,
    /// The last decision entry found on open, unless a `not_stored` entry
    /// followed it.
    last_decision: Option<LastDecision>,
}

/// Makes appends fail, for tests: on while [`FaultSwitch::set`] says so or
/// while the file named by [`FAULT_SWITCH_ENV`] exists.
#[derive(Debug, Default)]
pub struct FaultSwitch {
    on: AtomicBool,
    file: Option<PathBuf>,
}

impl FaultSwitch {
    fn from_env() -> Self {
        Self {
            on: AtomicBool::new(false),
            file: std::env::var_os(FAULT_SWITCH_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// Turns the injected failure on or off.
    pub fn set(&self, on: bool) {
        self.on.store(on, Ordering::SeqCst);
    }

    fn is_on(&self) -> bool {
        self.on.load(Ordering::SeqCst) || self.file.as_ref().is_some_and(|f| f.exists())
    }
}

/// What opening a log needs of its lines.
struct Scan {
    /// The last entry's sequence number (the line count if it is no entry).
    seq: u64,
    /// SHA-256 of the last line.
    last_sha256: String,
    /// SHA-256 of the line before it, if any.
    before_last: Option<String>,
    /// The last line's own `seq` and `prev_sha256`, if it is an entry.
    last_link: Option<(u64, String)>,
    last_decision: Option<LastDecision>,
}

/// The hash of each whole line of `bytes` (which ends in a newline or is
/// empty), with the last entry's sequence number.
fn scan(bytes: &[u8]) -> Scan {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() {
        return Scan {
            seq: 0,
            last_sha256: GENESIS.to_owned(),
            before_last: None,
            last_link: None,
            last_decision: None,
        };
    }
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    let last = lines[lines.len() - 1];
    let last_link = serde_json::from_slice::<AuditEntry>(last)
        .ok()
        .map(|e| (e.seq, e.prev_sha256));
    let seq = last_link.as_ref().map_or(lines.len() as u64, |l| l.0);
    let before_last = (lines.len() >= 2).then(|| sha256_hex(lines[lines.len() - 2]));
    let mut last_decision = None;
    for line in lines.iter().rev() {
        let Ok(entry) = serde_json::from_slice::<AuditEntry>(line) else {
            continue;
        };
        if entry.event.outcome == NOT_STORED && entry.event.refers_to.is_some() {
            break;
        }
        if let (Some(kind), Some(reference_id)) = (entry.event.decision, entry.event.reference_id) {
            last_decision = Some(LastDecision {
                seq: entry.seq,
                kind,
                reference_id,
            });
            break;
        }
    }
    Scan {
        seq,
        last_sha256: sha256_hex(last),
        before_last,
        last_link,
        last_decision,
    }
}

impl AuditLog {
    /// Opens (or creates) the log of `data_dir`. An incomplete last line is
    /// cut off: its append never returned, so no request was answered on it.
    /// A head that names another end than the log's is refused
    /// ([`AuditError::HeadMismatch`]); one exactly one entry behind (the
    /// process died between the log's fsync and the head's rename) is
    /// brought up to date.
    pub fn open(data_dir: &Path) -> Result<Self, AuditError> {
        Self::open_inner(data_dir, false)
    }

    fn open_inner(data_dir: &Path, accept_any_head: bool) -> Result<Self, AuditError> {
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
        let Scan {
            seq,
            last_sha256: prev,
            before_last,
            last_link,
            last_decision,
        } = scan(&bytes);
        let head = read_head(data_dir)?;
        let head_ok = match &head {
            None => seq == 0,
            Some(h) => h.seq == seq && h.sha256 == prev,
        };
        // A crash between the log's fsync and the head's rename leaves the
        // head exactly one entry behind, naming the line before the last,
        // and the last line the entry that follows it (anything else
        // written after the head is not an append of this log's).
        let head_lags_by_one = head.as_ref().is_some_and(|h| {
            before_last
                .as_deref()
                .map_or(h.sha256 == GENESIS, |b| b == h.sha256)
                && last_link
                    .as_ref()
                    .is_some_and(|(s, p)| *s == h.seq + 1 && *p == h.sha256)
        });
        if !head_ok && !head_lags_by_one && !accept_any_head {
            return Err(AuditError::HeadMismatch {
                dir: data_dir.to_owned(),
                head_seq: head.as_ref().map_or(0, |h| h.seq),
                head_sha256: head.map_or_else(|| "(no audit.head)".to_owned(), |h| h.sha256),
                log_seq: seq,
                log_sha256: prev,
            });
        }
        let log = Self {
            dir: data_dir.to_owned(),
            tail: Mutex::new(Tail {
                file,
                seq,
                prev,
                len: bytes.len() as u64,
                torn: false,
            }),
            faults: FaultSwitch::from_env(),
            last_decision,
        };
        // A new log gets its head at once, so that a missing head is never
        // taken for a new log.
        if !head_ok || head.is_none() {
            let tail = log.tail.lock().unwrap_or_else(|p| p.into_inner());
            log.write_head(&tail)?;
        }
        Ok(log)
    }

    /// Opens a log whose head does not match, appends an entry saying so
    /// (naming the old head and the log's end) and makes it the new head:
    /// the admin's recorded acceptance of a cut or edited end.
    pub fn reanchor(data_dir: &Path, actor: &str) -> Result<AuditEntry, AuditError> {
        let old_head = read_head(data_dir)?;
        let log = Self::open_inner(data_dir, true)?;
        let (log_seq, log_sha) = {
            let tail = log.tail.lock().unwrap_or_else(|p| p.into_inner());
            (tail.seq, tail.prev.clone())
        };
        let comment = format!(
            "audit.head named entry {} (sha256 {}); the log ended at entry {log_seq} (sha256 {log_sha})",
            old_head.as_ref().map_or(0, |h| h.seq),
            old_head.map_or_else(|| "(none)".to_owned(), |h| h.sha256),
        );
        log.append(AuditEvent {
            actor_name: actor.to_owned(),
            endpoint: "hoviyat audit reanchor".into(),
            outcome: "reanchored".into(),
            comment: Some(comment),
            ..AuditEvent::default()
        })
    }

    /// The fault injector of this log (tests).
    pub fn faults(&self) -> &FaultSwitch {
        &self.faults
    }

    /// The last decision entry found on open, unless a `not_stored` entry
    /// already followed it.
    pub fn last_decision(&self) -> Option<&LastDecision> {
        self.last_decision.as_ref()
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

    /// Cuts the file back to its last whole entry.
    fn cut_back(&self, tail: &mut Tail) -> Result<(), AuditError> {
        let path = self.dir.join(LOG_FILE);
        tail.file.set_len(tail.len).map_err(io_err(&path))?;
        tail.file.sync_all().map_err(io_err(&path))?;
        tail.torn = false;
        Ok(())
    }

    /// Appends `event`, durably, and returns its entry. Blocking.
    ///
    /// On failure the file is cut back to its last whole entry (or, if even
    /// that fails, before the next append), so the chain stays intact and
    /// the next append that succeeds continues it.
    pub fn append(&self, event: AuditEvent) -> Result<AuditEntry, AuditError> {
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        if tail.torn {
            self.cut_back(&mut tail)?;
        }
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
        let written = if self.faults.is_on() {
            // Half a line reaches the file, as when the disk fills up.
            let _ = tail.file.write_all(&line[..line.len() / 2]);
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "injected audit write failure",
            ))
        } else {
            tail.file
                .write_all(&line)
                .and_then(|()| tail.file.sync_data())
        };
        if let Err(source) = written {
            tail.torn = true;
            if let Err(e) = self.cut_back(&mut tail) {
                tracing::error!(error = %e, "audit log could not be cut back; retrying on the next append");
            }
            return Err(AuditError::Io { path, source });
        }
        let (old_seq, old_prev) = (tail.seq, std::mem::replace(&mut tail.prev, hash));
        tail.seq = entry.seq;
        if let Err(e) = self.write_head(&tail) {
            // The entry without its head would be refused on the next start:
            // take it back.
            tail.seq = old_seq;
            tail.prev = old_prev;
            tail.torn = true;
            if let Err(cut) = self.cut_back(&mut tail) {
                tracing::error!(error = %cut, "audit log could not be cut back; retrying on the next append");
            }
            return Err(e);
        }
        tail.len += line.len() as u64;
        Ok(entry)
    }

    /// [`verify`] of this log while the service runs: the chain up to the
    /// last entry appended when it is called, against the head written with
    /// that entry, so that a concurrent append is never taken for a break.
    /// Blocking; appends wait only while the head is read.
    pub fn verify_now(&self) -> Result<VerifyReport, AuditError> {
        let upto = {
            let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
            (tail.len, read_head(&self.dir)?)
        };
        verify_chain(&self.dir, None, Some(upto))
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

/// Who decides, as the log records it, and the log: what the engine is
/// handed to record a decision under its decision lock (see the module docs).
#[derive(Debug)]
pub struct Decisions<'a> {
    log: &'a AuditLog,
    /// The event of the decision's entry; `reference_id`, `candidates`,
    /// `outcome` and `decision` are filled in from the decision.
    template: AuditEvent,
    recorded: std::cell::Cell<Option<u64>>,
}

impl<'a> Decisions<'a> {
    /// Decisions made by the caller described in `template` (actor,
    /// endpoint, comment).
    pub fn new(log: &'a AuditLog, template: AuditEvent) -> Self {
        Self {
            log,
            template,
            recorded: std::cell::Cell::new(None),
        }
    }

    /// The sequence number of the recorded decision's entry, if one was.
    pub fn recorded(&self) -> Option<u64> {
        self.recorded.get()
    }
}

/// The outcome an entry names for a decision: the enrollment's new status,
/// the adjudicator's verdict, or `deleted`.
pub fn decision_outcome(decision: Decision<'_>) -> String {
    let e = decision.enrollment;
    let text = match decision.kind {
        DecisionKind::Enroll | DecisionKind::Delete => serde_json::to_value(e.status).ok(),
        DecisionKind::Adjudicate => e
            .adjudication
            .as_ref()
            .and_then(|a| serde_json::to_value(a.verdict).ok()),
    };
    text.and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl DecisionLog for Decisions<'_> {
    fn record(&self, decision: Decision<'_>) -> Result<(), DecisionLogError> {
        let e = decision.enrollment;
        let mut event = self.template.clone();
        event.reference_id = Some(e.reference_id.clone());
        event.decision = Some(decision.kind.into());
        event.outcome = decision_outcome(decision);
        event.candidates = e
            .candidates
            .iter()
            .map(|c| AuditCandidate {
                reference_id: c.reference_id.clone(),
                score: c.score,
            })
            .collect();
        let entry = self.log.append(event)?;
        self.recorded.set(Some(entry.seq));
        Ok(())
    }

    fn not_stored(&self, decision: Decision<'_>) {
        let event = AuditEvent {
            actor_key_id: self.template.actor_key_id.clone(),
            actor_name: self.template.actor_name.clone(),
            endpoint: self.template.endpoint.clone(),
            reference_id: Some(decision.enrollment.reference_id.clone()),
            outcome: NOT_STORED.into(),
            refers_to: self.recorded.get(),
            comment: Some("storing the decision failed; it did not take effect".into()),
            ..AuditEvent::default()
        };
        if let Err(e) = self.log.append(event) {
            tracing::error!(error = %e, "could not record that a decision was not stored");
        }
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

    /// One entry past the head is what a crash between the log's fsync and
    /// the head's rename leaves, and is caught up; any other line there
    /// (junk, or an entry that does not follow the one before) is refused
    /// and the head is left as it was.
    #[test]
    fn only_a_chained_entry_past_the_head_is_taken_as_a_lagging_head() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 3);
        let l = lines(dir.path());
        let head_of = |n: usize| {
            let head = Head {
                seq: n as u64,
                sha256: sha256_hex(l[n - 1].as_bytes()),
            };
            std::fs::write(
                dir.path().join(HEAD_FILE),
                serde_json::to_vec(&head).unwrap(),
            )
            .unwrap();
        };
        head_of(2);
        AuditLog::open(dir.path()).unwrap();
        assert!(verify(dir.path()).unwrap().intact);

        let not_entries = [
            "{\"x\":1}".to_owned(),
            // Entry 3 again, as if it were entry 4.
            l[2].replacen("\"seq\":3", "\"seq\":4", 1),
        ];
        for extra in not_entries {
            let mut added = l.clone();
            added.push(extra.clone());
            rewrite(dir.path(), &added);
            head_of(3);
            let head = std::fs::read(dir.path().join(HEAD_FILE)).unwrap();
            assert!(
                matches!(
                    AuditLog::open(dir.path()),
                    Err(AuditError::HeadMismatch { .. })
                ),
                "{extra}"
            );
            assert_eq!(std::fs::read(dir.path().join(HEAD_FILE)).unwrap(), head);
        }
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
