//! API keys: the store in the data directory (`keys.json`) and how a bearer
//! token is checked against it.
//!
//! A key reads `hvy_<id>_<secret>`, the secret 256 random bits. Only a hash
//! of the secret is stored; the key itself is shown once, when it is made.
//! A 256-bit random secret cannot be guessed or looked up in a dictionary,
//! so the hash is plain SHA-256 (`sha256:<hex>`), compared in constant time:
//! a wrong secret costs a microsecond, not a memory-hard argon2 run. Keys
//! made by earlier releases carry argon2id hashes; they still work, with at
//! most [`MAX_SLOW_CHECKS`] argon2 checks running at once (beyond: busy). The file is
//! rewritten atomically (temporary file, fsync, rename). A running service
//! notices a changed file (new or revoked keys) on the next request.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::SystemTime;

use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// File name of the key store inside the data directory.
pub const KEYS_FILE: &str = "keys.json";
const FORMAT_VERSION: u32 = 1;
/// Prefix of a stored SHA-256 hash.
const SHA256_PREFIX: &str = "sha256:";
/// argon2 checks of older keys that may run at once.
pub const MAX_SLOW_CHECKS: usize = 2;

/// What a key may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Submit enrollments, read their status.
    Enroller,
    /// Identify, verify, read candidates.
    Investigator,
    /// Decide on held enrollments.
    Adjudicator,
    /// Delete enrollments, read the audit log, statistics and metrics.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Enroller,
        Role::Investigator,
        Role::Adjudicator,
        Role::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Enroller => "enroller",
            Role::Investigator => "investigator",
            Role::Adjudicator => "adjudicator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?} (enroller, investigator, adjudicator, admin)")
            })
    }
}

/// One stored key (never the secret itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// Public identifier, the `<id>` part of the key.
    pub id: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// `sha256:<hex>` of the secret (argon2id PHC string for keys made by
    /// earlier releases).
    pub hash: String,
    pub created_at: jiff::Timestamp,
    #[serde(default)]
    pub revoked_at: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    keys: Vec<StoredKey>,
}

/// Why the key store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("key store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key store {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("key store {path} has version {version}; this build reads {FORMAT_VERSION}")]
    Version { path: PathBuf, version: u32 },
    #[error("no key with id {0:?}")]
    UnknownId(String),
    #[error("a key needs at least one role")]
    NoRole,
}

/// The keys of a data directory.
pub fn keys_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEYS_FILE)
}

fn load(path: &Path) -> Result<Vec<StoredKey>, KeyStoreError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(KeyStoreError::Io {
                path: path.into(),
                source,
            });
        }
    };
    let file: KeyFile = serde_json::from_slice(&bytes).map_err(|source| KeyStoreError::Parse {
        path: path.into(),
        source,
    })?;
    if file.version != FORMAT_VERSION {
        return Err(KeyStoreError::Version {
            path: path.into(),
            version: file.version,
        });
    }
    Ok(file.keys)
}

fn save(path: &Path, keys: &[StoredKey]) -> Result<(), KeyStoreError> {
    let file = KeyFile {
        version: FORMAT_VERSION,
        keys: keys.to_vec(),
    };
    let bytes = serde_json::to_vec_pretty(&file).map_err(|source| KeyStoreError::Parse {
        path: path.into(),
        source,
    })?;
    crate::fsutil::write_atomic(path, &bytes).map_err(|source| KeyStoreError::Io {
        path: path.into(),
        source,
    })
}

/// Lists the keys of `data_dir`.
pub fn list(data_dir: &Path) -> Result<Vec<StoredKey>, KeyStoreError> {
    load(&keys_path(data_dir))
}

/// Makes a key, stores its hash and returns `(stored, key)`: the key is
/// shown to nobody else, ever.
pub fn add(
    data_dir: &Path,
    name: &str,
    roles: &[Role],
) -> Result<(StoredKey, String), KeyStoreError> {
    if roles.is_empty() {
        return Err(KeyStoreError::NoRole);
    }
    let path = keys_path(data_dir);
    let mut keys = load(&path)?;
    let mut rng = rand::rng();
    let id = loop {
        let mut raw = [0u8; 6];
        rng.fill_bytes(&mut raw);
        let id = hex::encode(raw);
        if !keys.iter().any(|k| k.id == id) {
            break id;
        }
    };
    let mut secret_raw = [0u8; 32];
    rng.fill_bytes(&mut secret_raw);
    let secret = hex::encode(secret_raw);
    let hash = format!(
        "{SHA256_PREFIX}{}",
        hex::encode(Sha256::digest(secret.as_bytes()))
    );
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    let stored = StoredKey {
        id: id.clone(),
        name: name.to_owned(),
        roles,
        hash,
        created_at: jiff::Timestamp::now(),
        revoked_at: None,
    };
    keys.push(stored.clone());
    save(&path, &keys)?;
    Ok((stored, format!("hvy_{id}_{secret}")))
}

/// Revokes the key `id`; the service refuses it from its next request on.
pub fn revoke(data_dir: &Path, id: &str) -> Result<StoredKey, KeyStoreError> {
    let path = keys_path(data_dir);
    let mut keys = load(&path)?;
    let key = keys
        .iter_mut()
        .find(|k| k.id == id)
        .ok_or_else(|| KeyStoreError::UnknownId(id.to_owned()))?;
    if key.revoked_at.is_none() {
        key.revoked_at = Some(jiff::Timestamp::now());
    }
    let out = key.clone();
    save(&path, &keys)?;
    Ok(out)
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug)]
struct Loaded {
    modified: Option<SystemTime>,
    len: u64,
    keys: HashMap<String, StoredKey>,
}

/// The service's view of the key store, reloaded when the file changes.
#[derive(Debug)]
pub struct KeyRing {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    /// SHA-256 of tokens that passed argon2 -> key id, so that an older key
    /// costs one argon2 check per process, not one per request.
    verified: Mutex<HashMap<[u8; 32], String>>,
    /// argon2 checks running now.
    slow_checks: AtomicUsize,
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// Unknown, revoked or malformed token, or a wrong secret.
    Invalid,
    /// The token names an older (argon2) key and [`MAX_SLOW_CHECKS`] checks
    /// are running already: try again shortly.
    Busy,
}

/// Equal bytes, in time that depends only on the length.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Releases an argon2 check slot.
struct SlowCheck<'a>(&'a AtomicUsize);

impl Drop for SlowCheck<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn file_stamp(path: &Path) -> (Option<SystemTime>, u64) {
    match std::fs::metadata(path) {
        Ok(m) => (m.modified().ok(), m.len()),
        Err(_) => (None, 0),
    }
}

impl KeyRing {
    pub fn open(data_dir: &Path) -> Result<Self, KeyStoreError> {
        let path = keys_path(data_dir);
        let (modified, len) = file_stamp(&path);
        let keys = load(&path)?;
        Ok(Self {
            loaded: RwLock::new(Loaded {
                modified,
                len,
                keys: keys.into_iter().map(|k| (k.id.clone(), k)).collect(),
            }),
            path,
            verified: Mutex::new(HashMap::new()),
            slow_checks: AtomicUsize::new(0),
        })
    }

    fn refresh(&self) {
        let (modified, len) = file_stamp(&self.path);
        {
            let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            if loaded.modified == modified && loaded.len == len {
                return;
            }
        }
        match load(&self.path) {
            Ok(keys) => {
                let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
                *loaded = Loaded {
                    modified,
                    len,
                    keys: keys.into_iter().map(|k| (k.id.clone(), k)).collect(),
                };
                self.verified
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clear();
            }
            // A half-written file cannot happen (atomic rename); a broken
            // one keeps the previous keys in force and is logged.
            Err(e) => tracing::error!(error = %e, "key store reload failed; keeping previous keys"),
        }
    }

    /// The caller a bearer token belongs to. Blocking: a token of an older
    /// key may run one argon2 check (at most [`MAX_SLOW_CHECKS`] at once).
    pub fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        self.refresh();
        let rest = token.strip_prefix("hvy_").ok_or(AuthError::Invalid)?;
        let (id, secret) = rest.split_once('_').ok_or(AuthError::Invalid)?;
        if id.len() != 12 || secret.len() != 64 {
            return Err(AuthError::Invalid);
        }
        let stored = {
            let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            loaded.keys.get(id).cloned().ok_or(AuthError::Invalid)?
        };
        if stored.revoked_at.is_some() {
            return Err(AuthError::Invalid);
        }
        let caller = Caller {
            key_id: stored.id.clone(),
            name: stored.name.clone(),
            roles: stored.roles.clone(),
        };
        if let Some(expected) = stored.hash.strip_prefix(SHA256_PREFIX) {
            let got = hex::encode(Sha256::digest(secret.as_bytes()));
            return if constant_time_eq(got.as_bytes(), expected.as_bytes()) {
                Ok(caller)
            } else {
                Err(AuthError::Invalid)
            };
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&digest)
            .is_some_and(|cached_id| cached_id == id);
        if cached {
            return Ok(caller);
        }
        if self.slow_checks.fetch_add(1, Ordering::SeqCst) >= MAX_SLOW_CHECKS {
            self.slow_checks.fetch_sub(1, Ordering::SeqCst);
            return Err(AuthError::Busy);
        }
        let _slot = SlowCheck(&self.slow_checks);
        let hash = PasswordHash::new(&stored.hash).map_err(|_| AuthError::Invalid)?;
        Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .map_err(|_| AuthError::Invalid)?;
        self.verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest, id.to_owned());
        Ok(caller)
    }

    /// argon2 checks running now (for tests and metrics).
    pub fn slow_checks_running(&self) -> usize {
        self.slow_checks.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_authenticates_until_revoked_and_only_its_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (stored, key) = add(dir.path(), "alice", &[Role::Investigator]).unwrap();
        let ring = KeyRing::open(dir.path()).unwrap();
        let caller = ring.authenticate(&key).unwrap();
        assert_eq!(caller.name, "alice");
        assert!(stored.hash.starts_with("sha256:"));
        assert!(caller.has(Role::Investigator) && !caller.has(Role::Admin));
        let secret = key.rsplit('_').next().unwrap();
        let file = std::fs::read_to_string(keys_path(dir.path())).unwrap();
        assert!(!file.contains(secret), "the secret must not be stored");

        // A wrong secret with the right id, and garbage, are refused.
        let forged = format!("hvy_{}_{}", stored.id, "0".repeat(64));
        assert_eq!(ring.authenticate(&forged), Err(AuthError::Invalid));
        assert_eq!(ring.authenticate("hvy_"), Err(AuthError::Invalid));
        assert_eq!(ring.authenticate(""), Err(AuthError::Invalid));

        // The running ring notices the revocation on the next check.
        revoke(dir.path(), &stored.id).unwrap();
        assert_eq!(ring.authenticate(&key), Err(AuthError::Invalid));
    }

    /// A keys.json written by an earlier release (argon2id hashes) still
    /// authenticates, and a wrong secret for it is refused.
    #[test]
    fn an_argon2_key_of_an_earlier_release_still_works() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let dir = tempfile::tempdir().unwrap();
        let secret = "ab".repeat(32);
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let hash = Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .unwrap()
            .to_string();
        let file = serde_json::json!({"version": 1, "keys": [{
            "id": "0123456789ab", "name": "old", "roles": ["admin"], "hash": hash,
            "created_at": "2026-01-01T00:00:00Z"
        }]});
        std::fs::write(keys_path(dir.path()), file.to_string()).unwrap();
        let ring = KeyRing::open(dir.path()).unwrap();
        let key = format!("hvy_0123456789ab_{secret}");
        assert_eq!(ring.authenticate(&key).unwrap().name, "old");
        let wrong = format!("hvy_0123456789ab_{}", "cd".repeat(32));
        assert_eq!(ring.authenticate(&wrong), Err(AuthError::Invalid));
        assert_eq!(ring.slow_checks_running(), 0);
    }

    #[test]
    fn a_key_needs_a_role_and_revoking_an_unknown_id_fails() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            add(dir.path(), "x", &[]),
            Err(KeyStoreError::NoRole)
        ));
        assert!(matches!(
            revoke(dir.path(), "nope"),
            Err(KeyStoreError::UnknownId(_))
        ));
    }
}
