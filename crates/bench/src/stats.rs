//! Order statistics and number formatting for the tables.

use std::time::Duration;

/// Median, minimum, maximum and 90th percentile of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Sample size.
    pub n: usize,
    /// Median (mean of the two middle values for an even size).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// 90th percentile, nearest rank.
    pub p90: f64,
}

/// Summarise `values`; `None` for an empty sample.
pub fn summary(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
    Some(Summary { n, median, min: v[0], max: v[n - 1], p90: v[rank - 1] })
}

/// A duration in seconds, with a unit that keeps three significant figures readable.
pub fn secs(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// [`secs`] for a [`Duration`].
pub fn dur(d: Duration) -> String {
    secs(d.as_secs_f64())
}

/// An integer with thin thousands separators (`1,234,567`).
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count that may be fractional (a median of executions).
pub fn countf(x: f64) -> String {
    if x.fract() == 0.0 {
        count(x as u64)
    } else {
        format!("{x:.1}")
    }
}

/// A rate per second.
pub fn rate(executions: u64, s: f64) -> String {
    if s <= 0.0 {
        return "-".into();
    }
    count((executions as f64 / s).round() as u64)
}

/// A ratio such as a slowdown (`1,234×`, `3.4×`).
pub fn ratio(x: f64) -> String {
    if x >= 100.0 {
        format!("{}×", count(x.round() as u64))
    } else {
        format!("{x:.2}×")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_odd_and_even_samples() {
        let s = summary(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.n, s.median, s.min, s.max, s.p90), (3, 3.0, 1.0, 5.0, 5.0));
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        let s = summary(&v).unwrap();
        assert_eq!((s.median, s.p90), (10.5, 18.0));
        assert!(summary(&[]).is_none());
    }

    #[test]
    fn formats() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(secs(0.0123), "12.30 ms");
        assert_eq!(secs(0.000_05), "50 µs");
        assert_eq!(secs(2.5), "2.50 s");
        assert_eq!(ratio(12345.4), "12,345×");
        assert_eq!(ratio(1.5), "1.50×");
    }
}
