//! `hoviyat bench chaos`: enrollment, adjudication and delete load on a real
//! `hoviyat serve` (loopback only) while clients hang up, requests time out,
//! the server is SIGKILLed every few seconds and audit appends fail for a
//! while; then every decision is checked against the gallery and the audit
//! log.
//!
//! Faults are injected through the test-only switch file named by
//! `HOVIYAT_TEST_AUDIT_FAULT_FILE` (see `hoviyat_server::audit`).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hoviyat_datasets::synth::{Population, PopulationConfig};
use hoviyat_server::app::AppState;
use hoviyat_server::audit::{self, AuditDecision};
use hoviyat_server::engine::{AbisConfig, DecisionKind, took_effect};
use hoviyat_server::keys::{self, Role};
use hoviyat_server::limits::Limits;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct ChaosArgs {
    /// How long the load runs.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    duration_s: u64,
    /// The server is SIGKILLed and restarted this often.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    kill_every_s: u64,
    /// Audit appends fail for 1.5 s this often.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..))]
    fault_every_s: u64,
    /// Enrollments in flight at once (against one server worker and a 1 s
    /// request limit, enough to make some requests time out).
    #[arg(long, default_value_t = 16, value_parser = super::at_least_one)]
    concurrency: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// What the run did and what it found.
#[derive(Debug, Default, Serialize)]
pub struct ChaosReport {
    pub duration_s: f64,
    pub requests: u64,
    /// Requests the client dropped after a few milliseconds.
    pub client_disconnects: u64,
    /// 503 `timeout` / `timeout_accepted` answers.
    pub server_timeouts: u64,
    pub server_timeouts_accepted: u64,
    /// 503 `audit_unavailable` answers (while appends were failing).
    pub audit_refusals: u64,
    /// Requests that met a dead server (connection refused or reset).
    pub connection_errors: u64,
    pub kills: u64,
    pub fault_windows: u64,
    /// Decisions answered as taken (201/202/200).
    pub acknowledged: u64,
    /// Decisions in effect in the gallery at the end (acknowledged or not).
    pub present: u64,
    /// Decisions in effect with their audit entry.
    pub audited: u64,
    /// Acknowledged decisions not in effect.
    pub lost: u64,
    /// Decisions in effect without an audit entry.
    pub unaudited: u64,
    /// Decision entries (not marked `not_stored`) whose decision is not in effect.
    pub recorded_not_in_effect: u64,
    /// Per decision kind; `attempted` counts decisions sent at least once.
    pub by_kind: HashMap<String, KindCounts>,
    pub audit_entries: u64,
    pub audit_intact: bool,
    pub audit_first_break: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct KindCounts {
    pub attempted: u64,
    pub acknowledged: u64,
    pub present: u64,
    pub audited: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    disconnects: AtomicU64,
    timeouts: AtomicU64,
    timeouts_accepted: AtomicU64,
    audit_refusals: AtomicU64,
    connection_errors: AtomicU64,
}

/// Every decision tried: (kind, reference id) -> acknowledged at least once.
type Attempts = Mutex<HashMap<(Kind, String), bool>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Enroll,
    Adjudicate,
    Delete,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Enroll => "enroll",
            Kind::Adjudicate => "adjudicate",
            Kind::Delete => "delete",
        }
    }
    fn engine(self) -> DecisionKind {
        match self {
            Kind::Enroll => DecisionKind::Enroll,
            Kind::Adjudicate => DecisionKind::Adjudicate,
            Kind::Delete => DecisionKind::Delete,
        }
    }
    fn from_audit(k: AuditDecision) -> Self {
        match k {
            AuditDecision::Enroll => Kind::Enroll,
            AuditDecision::Adjudicate => Kind::Adjudicate,
            AuditDecision::Delete => Kind::Delete,
        }
    }
}

/// The server under test and its current address.
struct Server {
    dir: std::path::PathBuf,
    switch: std::path::PathBuf,
    child: Option<Child>,
    addr: Arc<RwLock<Option<String>>>,
}

impl Server {
    fn start(&mut self) -> anyhow::Result<()> {
        let exe = std::env::current_exe().context("locating the hoviyat binary")?;
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--timeout-s", "1"])
            .args(["--workers", "1", "--data"])
            .arg(&self.dir)
            .env(audit::FAULT_SWITCH_ENV, &self.switch)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn,hoviyat=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting hoviyat serve")?;
        let stderr = child.stderr.take().context("server stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        let addr = loop {
            let Some(line) = lines.next() else {
                let _ = child.wait();
                anyhow::bail!("server exited before listening:\n{}", seen.join("\n"));
            };
            let line = line?;
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            seen.push(line);
        };
        std::thread::spawn(move || for _ in lines {});
        *self.addr.write().unwrap_or_else(|p| p.into_inner()) = Some(addr);
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) {
        *self.addr.write().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }
}

/// Runs `hoviyat bench chaos`.
pub fn run(a: ChaosArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir)?;
    let enroller = keys::add(&dir, "chaos-enroller", &[Role::Enroller])?.1;
    let adjudicator = keys::add(&dir, "chaos-adjudicator", &[Role::Adjudicator])?.1;
    let admin = keys::add(&dir, "chaos-admin", &[Role::Admin])?.1;
    let addr = Arc::new(RwLock::new(None));
    let mut server = Server {
        dir: dir.clone(),
        switch: tmp.path().join("audit-fault-switch"),
        child: None,
        addr: Arc::clone(&addr),
    };
    server.start()?;

    let counters = Arc::new(Counters::default());
    let attempts: Arc<Attempts> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let population = Arc::new(Population::new(PopulationConfig::new(a.seed, 1_000_000))?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(a.duration_s);
    let mut report = ChaosReport::default();

    let load = runtime.spawn(load(
        Arc::clone(&addr),
        Keys {
            enroller,
            adjudicator,
            admin,
        },
        Arc::clone(&population),
        Arc::clone(&counters),
        Arc::clone(&attempts),
        Arc::clone(&stop),
        a.concurrency.max(1),
    ));

    // Kills and fault windows on this thread.
    let mut next_kill = started + Duration::from_secs(a.kill_every_s);
    let mut next_fault = started + Duration::from_secs(a.fault_every_s);
    let mut fault_until: Option<Instant> = None;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let now = Instant::now();
        if now >= next_kill {
            server.kill();
            report.kills += 1;
            server.start()?;
            next_kill = now + Duration::from_secs(a.kill_every_s);
        }
        if fault_until.is_some_and(|t| now >= t) {
            let _ = std::fs::remove_file(&server.switch);
            fault_until = None;
        }
        if now >= next_fault {
            std::fs::write(&server.switch, b"on")?;
            report.fault_windows += 1;
            fault_until = Some(now + Duration::from_millis(1500));
            next_fault = now + Duration::from_secs(a.fault_every_s);
        }
    }
    stop.store(true, Ordering::SeqCst);
    let _ = std::fs::remove_file(&server.switch);
    runtime.block_on(load)?;
    server.kill();
    report.duration_s = started.elapsed().as_secs_f64();

    // A last start, in process: what a restart would find and resolve.
    let state = AppState::open(&dir, Limits::default(), &AbisConfig::default())
        .context("reopening the data directory after the run")?;
    check(&state, &attempts, &mut report)?;
    drop(state);
    let verify = audit::verify(&dir)?;
    report.audit_entries = verify.entries;
    report.audit_intact = verify.intact;
    report.audit_first_break = verify
        .first_break
        .map(|b| format!("line {}: {}", b.line, b.reason));
    let c = &counters;
    report.requests = c.requests.load(Ordering::SeqCst);
    report.client_disconnects = c.disconnects.load(Ordering::SeqCst);
    report.server_timeouts = c.timeouts.load(Ordering::SeqCst);
    report.server_timeouts_accepted = c.timeouts_accepted.load(Ordering::SeqCst);
    report.audit_refusals = c.audit_refusals.load(Ordering::SeqCst);
    report.connection_errors = c.connection_errors.load(Ordering::SeqCst);

    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} s, {} requests, {} kills, {} fault windows: acknowledged {}, present {}, audited {}, lost {}, unaudited {}; audit verify: {}",
            report.duration_s.round(),
            report.requests,
            report.kills,
            report.fault_windows,
            report.acknowledged,
            report.present,
            report.audited,
            report.lost,
            report.unaudited,
            if report.audit_intact {
                "intact"
            } else {
                "BROKEN"
            }
        );
    }
    anyhow::ensure!(
        report.lost == 0 && report.unaudited == 0 && report.audit_intact,
        "decisions lost or unaudited, or the audit chain broken"
    );
    Ok(())
}

/// Compares every decision tried with the gallery and the audit log.
fn check(state: &AppState, attempts: &Attempts, report: &mut ChaosReport) -> anyhow::Result<()> {
    let entries = state.audit.read(0, usize::MAX)?;
    let not_stored: HashSet<u64> = entries
        .iter()
        .filter(|e| e.event.outcome == audit::NOT_STORED)
        .filter_map(|e| e.event.refers_to)
        .collect();
    let recorded: HashSet<(Kind, String)> = entries
        .iter()
        .filter(|e| !not_stored.contains(&e.seq))
        .filter_map(|e| {
            Some((
                Kind::from_audit(e.event.decision?),
                e.event.reference_id.clone()?,
            ))
        })
        .collect();
    let attempts = attempts.lock().unwrap_or_else(|p| p.into_inner());
    for ((kind, id), &acked) in attempts.iter() {
        let stored = state.abis.enrollment(id)?;
        let present = took_effect(kind.engine(), stored.as_ref());
        let audited = recorded.contains(&(*kind, id.clone()));
        let k = report.by_kind.entry(kind.name().to_owned()).or_default();
        k.attempted += 1;
        k.acknowledged += u64::from(acked);
        k.present += u64::from(present);
        k.audited += u64::from(present && audited);
        report.acknowledged += u64::from(acked);
        report.present += u64::from(present);
        report.audited += u64::from(present && audited);
        report.lost += u64::from(acked && !present);
        report.unaudited += u64::from(present && !audited);
    }
    for (kind, id) in &recorded {
        let stored = state.abis.enrollment(id)?;
        if !took_effect(kind.engine(), stored.as_ref()) {
            report.recorded_not_in_effect += 1;
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct Keys {
    enroller: String,
    adjudicator: String,
    admin: String,
}

/// Shared work lists: held enrollments to adjudicate, cleared ones to delete.
#[derive(Debug, Default)]
struct Lists {
    held: Mutex<Vec<String>>,
    cleared: Mutex<Vec<String>>,
}

async fn load(
    addr: Arc<RwLock<Option<String>>>,
    keys: Keys,
    population: Arc<Population>,
    counters: Arc<Counters>,
    attempts: Arc<Attempts>,
    stop: Arc<AtomicBool>,
    concurrency: usize,
) {
    let lists = Arc::new(Lists::default());
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..concurrency + 2 {
        let ctx = Ctx {
            addr: Arc::clone(&addr),
            keys: keys.clone(),
            counters: Arc::clone(&counters),
            attempts: Arc::clone(&attempts),
            lists: Arc::clone(&lists),
            client: reqwest::Client::new(),
        };
        let (population, stop, next) = (
            Arc::clone(&population),
            Arc::clone(&stop),
            Arc::clone(&next),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                if worker == concurrency {
                    ctx.adjudicate(n).await;
                } else if worker == concurrency + 1 {
                    ctx.delete(n).await;
                } else {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    ctx.enroll(&population, i).await;
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

struct Ctx {
    addr: Arc<RwLock<Option<String>>>,
    keys: Keys,
    counters: Arc<Counters>,
    attempts: Arc<Attempts>,
    lists: Arc<Lists>,
    client: reqwest::Client,
}

/// What became of one request.
enum Answer {
    Status(u16),
    Gone,
    /// The server was down (being restarted): nothing was sent.
    NotSent,
}

impl Ctx {
    fn attempt(&self, kind: Kind, id: &str, acked: bool) {
        let mut a = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let e = a.entry((kind, id.to_owned())).or_insert(false);
        *e |= acked;
    }

    /// Sends a request; every 6th is dropped by the client after a few
    /// milliseconds.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<serde_json::Value>,
        n: u64,
    ) -> Answer {
        let Some(addr) = self.addr.read().unwrap_or_else(|p| p.into_inner()).clone() else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Answer::NotSent;
        };
        self.counters.requests.fetch_add(1, Ordering::SeqCst);
        let mut req = self
            .client
            .request(method, format!("http://{addr}{path}"))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let hang_up = n % 6 == 5;
        if hang_up {
            req = req.timeout(Duration::from_millis(2 + n % 10));
        }
        match req.send().await {
            Ok(resp) => {
                let code = resp.status().as_u16();
                if code == 503 {
                    let body: serde_json::Value = resp.json().await.unwrap_or_default();
                    let c = &self.counters;
                    match body["error"].as_str() {
                        Some("timeout") => c.timeouts.fetch_add(1, Ordering::SeqCst),
                        Some("timeout_accepted") => {
                            c.timeouts_accepted.fetch_add(1, Ordering::SeqCst)
                        }
                        Some("audit_unavailable") => {
                            c.audit_refusals.fetch_add(1, Ordering::SeqCst)
                        }
                        _ => 0,
                    };
                }
                Answer::Status(code)
            }
            Err(e) => {
                if hang_up && e.is_timeout() {
                    self.counters.disconnects.fetch_add(1, Ordering::SeqCst);
                } else {
                    self.counters
                        .connection_errors
                        .fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Answer::Gone
            }
        }
    }

    async fn enroll(&self, population: &Population, i: u64) {
        // Every 4th enrollment is a second capture of an earlier person:
        // held for adjudication.
        let (id, record) = if i % 4 == 3 {
            let id = format!("chaos-{i}");
            let mut r = population.reenrollment(i - 3, 1);
            r.reference_id = id.clone();
            (id, r)
        } else {
            let id = format!("chaos-{i}");
            let mut r = population.identity(i);
            r.reference_id = id.clone();
            (id, r)
        };
        let body = hoviyat_server::loadgen::request_json(&record);
        let answer = self
            .send(
                reqwest::Method::POST,
                "/v1/enrollments",
                &self.keys.enroller,
                Some(body),
                i,
            )
            .await;
        if matches!(answer, Answer::NotSent) {
            return;
        }
        let acked = matches!(answer, Answer::Status(201 | 202));
        self.attempt(Kind::Enroll, &id, acked);
        match answer {
            Answer::Status(201) => self
                .lists
                .cleared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id),
            Answer::Status(202) => self
                .lists
                .held
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id),
            _ => {}
        }
    }

    async fn adjudicate(&self, n: u64) {
        let id = self
            .lists
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let Some(id) = id else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        };
        let verdict = if n.is_multiple_of(2) {
            "distinct"
        } else {
            "duplicate"
        };
        let path = format!("/v1/enrollments/{id}/adjudication");
        let body = json!({"verdict": verdict, "comment": "chaos"});
        let answer = self
            .send(
                reqwest::Method::POST,
                &path,
                &self.keys.adjudicator,
                Some(body),
                n,
            )
            .await;
        let acked = matches!(answer, Answer::Status(200));
        if !matches!(answer, Answer::NotSent) {
            self.attempt(Kind::Adjudicate, &id, acked);
        }
        // Retry later unless answered (taken, or refused as not held).
        if !matches!(answer, Answer::Status(200 | 409 | 404)) {
            self.lists
                .held
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(0, id);
        }
    }

    async fn delete(&self, n: u64) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let id = {
            let mut cleared = self.lists.cleared.lock().unwrap_or_else(|p| p.into_inner());
            if cleared.len() < 10 {
                None
            } else {
                let k = (n as usize * 7) % cleared.len();
                Some(cleared.swap_remove(k))
            }
        };
        let Some(id) = id else {
            return;
        };
        let path = format!("/v1/enrollments/{id}");
        let answer = self
            .send(reqwest::Method::DELETE, &path, &self.keys.admin, None, n)
            .await;
        let acked = matches!(answer, Answer::Status(200));
        if !matches!(answer, Answer::NotSent) {
            self.attempt(Kind::Delete, &id, acked);
        }
        if !matches!(answer, Answer::Status(200 | 404 | 410)) {
            self.lists
                .cleared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_both_ways() {
        for k in [Kind::Enroll, Kind::Adjudicate, Kind::Delete] {
            let audit: AuditDecision = k.engine().into();
            assert_eq!(Kind::from_audit(audit), k);
        }
    }
}
