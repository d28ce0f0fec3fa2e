//! Request counts and latencies by GraphQL operation, in Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Operation names are client-chosen: past this many, new ones count as `other`.
const MAX_OPERATIONS: usize = 200;

#[derive(Default)]
struct Series {
    count: u64,
    errors: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<String, Series>>,
}

fn label(operation: Option<&str>) -> String {
    match operation {
        Some(name)
            if !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            name.to_string()
        }
        Some(_) => "invalid".into(),
        None => "anonymous".into(),
    }
}

impl Metrics {
    pub fn observe(&self, operation: Option<&str>, elapsed: Duration, error: bool) {
        let mut name = label(operation);
        let Ok(mut series) = self.series.lock() else {
            return;
        };
        if !series.contains_key(&name) && series.len() >= MAX_OPERATIONS {
            name = "other".into();
        }
        let s = series.entry(name).or_default();
        let secs = elapsed.as_secs_f64();
        s.count += 1;
        s.sum += secs;
        if error {
            s.errors += 1;
        }
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(series) = self.series.lock() else {
            return out;
        };
        out.push_str("# HELP kvartal_graphql_requests_total GraphQL requests by operation.\n");
        out.push_str("# TYPE kvartal_graphql_requests_total counter\n");
        for (op, s) in series.iter() {
            let _ = writeln!(
                out,
                "kvartal_graphql_requests_total{{operation=\"{op}\",outcome=\"ok\"}} {}",
                s.count - s.errors
            );
            let _ = writeln!(
                out,
                "kvartal_graphql_requests_total{{operation=\"{op}\",outcome=\"error\"}} {}",
                s.errors
            );
        }
        out.push_str("# HELP kvartal_graphql_request_duration_seconds GraphQL request latency by operation.\n");
        out.push_str("# TYPE kvartal_graphql_request_duration_seconds histogram\n");
        for (op, s) in series.iter() {
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "kvartal_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{le}\"}} {}", s.buckets[i]);
            }
            let _ = writeln!(out, "kvartal_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(
                out,
                "kvartal_graphql_request_duration_seconds_sum{{operation=\"{op}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "kvartal_graphql_request_duration_seconds_count{{operation=\"{op}\"}} {}",
                s.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_cumulative_buckets_by_operation() {
        let m = Metrics::default();
        m.observe(Some("Houses"), Duration::from_millis(3), false);
        m.observe(Some("Houses"), Duration::from_millis(30), true);
        let text = m.render();
        assert!(
            text.contains("kvartal_graphql_requests_total{operation=\"Houses\",outcome=\"ok\"} 1")
        );
        assert!(text
            .contains("kvartal_graphql_requests_total{operation=\"Houses\",outcome=\"error\"} 1"));
        assert!(text.contains(
            "kvartal_graphql_request_duration_seconds_bucket{operation=\"Houses\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "kvartal_graphql_request_duration_seconds_bucket{operation=\"Houses\",le=\"0.05\"} 2"
        ));
    }

    #[test]
    fn hostile_operation_names_do_not_become_labels() {
        assert_eq!(label(Some("a\"} 1\nevil")), "invalid");
    }
}
