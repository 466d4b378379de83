//! The live views' configuration (`watch`/`-c`, `events`/`-E`, `trace`):
//! the interval between two snapshots and the bounds that end a run by
//! itself (`--count`, `--duration`), parsed into typed values with the
//! reason a bad one is refused (clap exits 2 with it).

use std::time::Duration;

/// The shortest interval `watch` takes: a snapshot of a large table costs
/// more than this, so a shorter one would only mean back-to-back dumps.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// The longest interval and duration: anything longer is a typo.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// The longest `--duration`.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// How a live view repeats and when it ends by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    /// Time between two snapshots (`watch`, `-c`); 1 s unless --interval.
    pub interval: Duration,
    /// `watch`: the number of ticks (snapshots compared with the one
    /// before); `events`, `trace`: the number of events shown. `None`: no
    /// limit.
    pub count: Option<u64>,
    /// Ends the run after this long. `None`: no limit.
    pub duration: Option<Duration>,
}

impl Default for Live {
    fn default() -> Live {
        Live {
            interval: Duration::from_secs(1),
            count: None,
            duration: None,
        }
    }
}

impl Live {
    /// Whether the run ends by itself.
    pub fn bounded(&self) -> bool {
        self.count.is_some() || self.duration.is_some()
    }
}

/// A duration as typed: a number of seconds (`2`, `0.5`) or a number with
/// a unit `ms`, `s`, `m` or `h` (`500ms`, `1.5s`, `2m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if t.starts_with('-') {
        return Err("a duration cannot be negative".into());
    }
    if number.is_empty() {
        return Err(
            "expected a number of seconds, or a number with ms, s, m or h (500ms, 2s, 1m)".into(),
        );
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{number}' is not a number"))?;
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ms" => 1e-3,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit '{}': use ms, s, m or h",
                crate::text::escape(other)
            ));
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs > MAX_DURATION.as_secs_f64() {
        return Err("too long".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `--interval`: a duration from [`MIN_INTERVAL`] to [`MAX_INTERVAL`].
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err("the interval must be more than 0".into());
    }
    if d < MIN_INTERVAL {
        return Err(format!(
            "the interval must be at least {} ms",
            MIN_INTERVAL.as_millis()
        ));
    }
    if d > MAX_INTERVAL {
        return Err("the interval must be at most 24h".into());
    }
    Ok(d)
}

/// `--duration`: more than 0, at most a year.
pub fn parse_run_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err("the duration must be more than 0".into());
    }
    Ok(d)
}

/// `--count`: a whole number from 1.
pub fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("the count must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "'{}' is not a whole number",
            crate::text::escape(text)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_and_units() {
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in [
            "",
            "-1",
            "-1s",
            "x",
            "1x",
            "1.2.3",
            "1e9999",
            "99999999999h",
            "s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn intervals_are_bounded() {
        assert_eq!(parse_interval("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("10ms"), Ok(Duration::from_millis(10)));
        for bad in ["0", "0s", "0.001", "-1", "25h", "abc"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
        assert!(parse_run_duration("0").is_err());
        assert_eq!(parse_run_duration("20s"), Ok(Duration::from_secs(20)));
    }

    #[test]
    fn counts_are_whole_and_positive() {
        assert_eq!(parse_count("5"), Ok(5));
        for bad in ["0", "-1", "1.5", "x", ""] {
            assert!(parse_count(bad).is_err(), "{bad}");
        }
    }
}
