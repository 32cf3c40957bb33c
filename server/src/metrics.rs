//! Prometheus metrics in the text exposition format: request counts and
//! latency histograms per route, dedup decisions, refusals for load.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS_S: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

impl Histogram {
    fn observe(&mut self, s: f64) {
        for (i, bound) in BUCKETS_S.iter().enumerate() {
            if s <= *bound {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum_s += s;
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
    decisions: BTreeMap<String, u64>,
}

/// The service's counters, shared by all requests.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Gauges read at scrape time.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    pub identities: u64,
    pub held: u64,
    pub gallery_bytes: u64,
    pub pending_work: u64,
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one answered request. `route` is the matched route template
    /// (never the raw path, so ids cannot explode the label set).
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut inner = self.lock();
        *inner
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        inner
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// Records a dedup decision (`cleared`, `potential_duplicate`).
    pub fn decision(&self, status: &str) {
        *self.lock().decisions.entry(status.to_owned()).or_default() += 1;
    }

    /// The exposition text.
    pub fn render(&self, gauges: Gauges) -> String {
        let inner = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP hoviyat_http_requests_total Requests answered, by route and status.\n",
        );
        out.push_str("# TYPE hoviyat_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "hoviyat_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP hoviyat_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE hoviyat_http_request_duration_seconds histogram\n");
        for ((method, route), h) in &inner.latency {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            for (bound, count) in BUCKETS_S.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "hoviyat_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "hoviyat_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "hoviyat_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum_s
            );
            let _ = writeln!(
                out,
                "hoviyat_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP hoviyat_dedup_decisions_total Enrollment decisions by outcome.\n");
        out.push_str("# TYPE hoviyat_dedup_decisions_total counter\n");
        for (status, n) in &inner.decisions {
            let _ = writeln!(
                out,
                "hoviyat_dedup_decisions_total{{decision=\"{}\"}} {n}",
                escape(status)
            );
        }
        for (name, help, value) in [
            (
                "hoviyat_identities",
                "Cleared, searchable identities.",
                gauges.identities,
            ),
            (
                "hoviyat_held_enrollments",
                "Enrollments held for adjudication.",
                gauges.held,
            ),
            (
                "hoviyat_gallery_bytes",
                "Bytes of the gallery store.",
                gauges.gallery_bytes,
            ),
            (
                "hoviyat_pending_work",
                "Matching requests queued or running.",
                gauges.pending_work,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.request("POST", "/v1/identify", 200, Duration::from_millis(30));
        m.request("POST", "/v1/identify", 200, Duration::from_millis(300));
        m.decision("cleared");
        let text = m.render(Gauges {
            identities: 7,
            held: 1,
            gallery_bytes: 10,
            pending_work: 0,
        });
        assert!(text.contains(
            "hoviyat_http_requests_total{method=\"POST\",route=\"/v1/identify\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "hoviyat_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/identify\",le=\"0.05\"} 1"
        ));
        assert!(text.contains("hoviyat_dedup_decisions_total{decision=\"cleared\"} 1"));
        assert!(text.contains("hoviyat_identities 7"));
    }
}
