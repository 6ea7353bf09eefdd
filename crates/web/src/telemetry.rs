//! Request counts and latencies by route, rendered in the Prometheus text format at `/metrics`.
//! Kept per app (not a global recorder) so several servers in one test process stay apart.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum_seconds: f64,
    bucket_counts: [u64; BUCKETS.len()],
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// Keyed by (method, route, status).
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut series = match self.series.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = series
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        for (index, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                entry.bucket_counts[index] += 1;
            }
        }
    }

    /// The Prometheus text exposition of every series recorded so far.
    pub fn render(&self) -> String {
        let series = match self.series.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let mut out = String::new();
        out.push_str(
            "# HELP learnloop_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE learnloop_http_requests_total counter\n");
        for ((method, route, status), data) in &series {
            out.push_str(&format!(
                "learnloop_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}\n",
                escape(route),
                data.count
            ));
        }
        out.push_str("# HELP learnloop_http_request_duration_seconds Time to answer HTTP requests, by route.\n");
        out.push_str("# TYPE learnloop_http_request_duration_seconds histogram\n");
        for ((method, route, status), data) in &series {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (index, bound) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "learnloop_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}\n",
                    data.bucket_counts[index]
                ));
            }
            out.push_str(&format!(
                "learnloop_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                data.count
            ));
            out.push_str(&format!(
                "learnloop_http_request_duration_seconds_sum{{{labels}}} {}\n",
                data.sum_seconds
            ));
            out.push_str(&format!(
                "learnloop_http_request_duration_seconds_count{{{labels}}} {}\n",
                data.count
            ));
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        metrics.record("GET", "/agencies", 200, Duration::from_millis(3));
        metrics.record("GET", "/agencies", 200, Duration::from_millis(30));
        let text = metrics.render();
        assert!(text.contains(
            "learnloop_http_requests_total{method=\"GET\",route=\"/agencies\",status=\"200\"} 2"
        ));
        assert!(text.contains("status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("status=\"200\",le=\"0.05\"} 2"));
        assert!(text.contains("status=\"200\",le=\"+Inf\"} 2"));
    }
}
