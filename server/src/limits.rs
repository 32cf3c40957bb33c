//! Resource limits of the service and the bound on concurrent matching work.
//!
//! Matching runs on blocking threads, at most `workers` at a time; at most
//! `max_pending` requests may wait for or hold a worker. Beyond that a
//! request is refused at once with 503 and `Retry-After`, so that a burst
//! cannot queue unbounded memory or latency. A request with a body takes
//! its place in that bound ([`Admitted`]) before the body is read, so the
//! bound covers buffered bodies too.
//!
//! Decisions run to completion once started, whatever becomes of the request
//! ([`StartGate`]): a request timeout that fires after a decision's work
//! began answers that the work was accepted, never "retry later".

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Largest accepted image side, in pixels.
    pub max_image_side_px: u32,
    /// Most memory an image decoder may allocate.
    pub max_image_alloc_bytes: u64,
    /// Time after which a request is answered 503 `timeout`.
    pub request_timeout: Duration,
    /// Matching requests that may be queued or running at once.
    pub max_pending: usize,
    /// Matching requests that run at once.
    pub workers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            max_image_side_px: 4096,
            max_image_alloc_bytes: 256 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_pending: 256,
            workers: cores,
        }
    }
}

/// Runs blocking engine work under the pending and worker bounds.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    pending: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    max_pending: usize,
}

impl WorkQueue {
    pub fn new(limits: &Limits) -> Self {
        Self {
            pending: Arc::new(Semaphore::new(limits.max_pending.max(1))),
            workers: Arc::new(Semaphore::new(limits.workers.max(1))),
            max_pending: limits.max_pending.max(1),
        }
    }

    /// Requests queued or running now.
    pub fn pending(&self) -> usize {
        self.max_pending - self.pending.available_permits()
    }

    /// A place in the pending bound; 503 `busy` when the queue is full.
    pub fn admit(&self) -> Result<Admitted, ApiError> {
        self.pending
            .clone()
            .try_acquire_owned()
            .map(Admitted)
            .map_err(|_| ApiError::busy(1))
    }

    /// Runs `work` on a blocking thread; 503 `busy` when the queue is full.
    ///
    /// The permits travel with the work: if the request is dropped (timeout,
    /// client gone) they are released only when the work itself ends, so the
    /// bound holds for the CPU and not just for the connections. Work that
    /// has started runs to its end even if the request is dropped.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let admitted = self.admit()?;
        self.run_admitted(admitted, work).await
    }

    /// [`WorkQueue::run`] for a request that already holds its place.
    pub async fn run_admitted<T, F>(&self, admitted: Admitted, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let pending = admitted.0;
        let worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(worker);
            drop(pending);
            out
        })
        .await
        .map_err(ApiError::internal)
    }

    /// Runs blocking I/O (audit appends, key checks) outside the matching
    /// bound.
    pub async fn io<T, F>(work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(ApiError::internal)
    }
}

/// A request's place in the pending bound, taken before its body is read
/// (an extractor: list it before the body).
#[derive(Debug)]
pub struct Admitted(OwnedSemaphorePermit);

impl axum::extract::FromRequestParts<Arc<crate::app::AppState>> for Admitted {
    type Rejection = ApiError;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        state: &Arc<crate::app::AppState>,
    ) -> Result<Self, ApiError> {
        state.work.admit()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Gate {
    Waiting,
    /// The work began; its outcome will be readable at this path.
    Started(Option<String>),
    /// The request timed out before the work began: it never will.
    Expired,
}

/// Decides, race-free, between a request's work starting and its timeout:
/// work that starts runs to completion, and a timeout after the start says
/// so instead of inviting a blind retry.
#[derive(Debug, Clone)]
pub struct StartGate(Arc<std::sync::Mutex<Gate>>);

impl Default for StartGate {
    fn default() -> Self {
        Self(Arc::new(std::sync::Mutex::new(Gate::Waiting)))
    }
}

/// What became of a request's work when it timed out.
#[derive(Debug, Clone, PartialEq)]
pub enum AtTimeout {
    /// Never started, never will: retrying is safe.
    NotStarted,
    /// Started and runs to completion; the outcome is at `status_path`.
    Started { status_path: Option<String> },
}

impl StartGate {
    /// Called by the work as it begins: `Err(timeout)` if the request timed
    /// out already (the work must then do nothing).
    pub fn start(&self, status_path: Option<String>) -> Result<(), ApiError> {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match *g {
            Gate::Expired => Err(ApiError::timeout()),
            Gate::Waiting | Gate::Started(_) => {
                *g = Gate::Started(status_path);
                Ok(())
            }
        }
    }

    /// Called when the request times out.
    pub fn expire(&self) -> AtTimeout {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match &*g {
            Gate::Started(path) => AtTimeout::Started {
                status_path: path.clone(),
            },
            Gate::Waiting | Gate::Expired => {
                *g = Gate::Expired;
                AtTimeout::NotStarted
            }
        }
    }
}

impl axum::extract::FromRequestParts<Arc<crate::app::AppState>> for StartGate {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &Arc<crate::app::AppState>,
    ) -> Result<Self, ApiError> {
        // The deadline layer puts one in every request; without it (a router
        // built without the layer) nothing can time out.
        Ok(parts
            .extensions
            .get::<StartGate>()
            .cloned()
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_beyond_the_pending_bound_is_refused_with_retry_after() {
        let q = WorkQueue::new(&Limits {
            max_pending: 1,
            workers: 1,
            ..Limits::default()
        });
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let busy_q = q.clone();
        let first = tokio::spawn(async move {
            busy_q
                .run(move || {
                    let _ = started_tx.send(());
                    let _ = wait.recv();
                    7
                })
                .await
        });
        started.await.unwrap();
        assert_eq!(q.pending(), 1);
        let refused = q.run(|| 8).await.unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.retry_after_s, Some(1));
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 7);
        // The permit came back with the finished work.
        assert_eq!(q.run(|| 9).await.unwrap(), 9);
        assert_eq!(q.pending(), 0);
    }
}
