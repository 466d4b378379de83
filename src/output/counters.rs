//! `sockscope counters` in words: `Name value` lines as nstat prints them
//! (names first, so `grep` and `awk '{print $1, $2}'` keep working), the
//! sentence of a counter of connection trouble on an indented line under
//! it; and the same as one JSON object.

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;
use serde_json::Map;

use super::json::PlaceJson;
use crate::analysis::counters::{Change, CounterRow};
use crate::pipeline::netns::Place;

/// What the numbers of a run are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The values themselves.
    Absolute,
    /// The increase since the previous `--delta` run.
    SinceLastRun,
    /// The increase over `--interval`.
    Interval(Duration),
}

impl Basis {
    fn word(self) -> &'static str {
        match self {
            Basis::Absolute => "absolute",
            Basis::SinceLastRun => "delta",
            Basis::Interval(_) => "interval",
        }
    }
}

/// The text lines: a header (unless `header` is false) naming what the
/// numbers are, then each counter.
pub fn counters_text(
    out: &mut dyn Write,
    rows: &[CounterRow],
    basis: Basis,
    header: bool,
) -> io::Result<()> {
    let numbers: Vec<String> = rows.iter().map(|r| r.shown().to_string()).collect();
    let title = match basis {
        Basis::Absolute => "Value".to_owned(),
        Basis::SinceLastRun => "Since last run".to_owned(),
        Basis::Interval(d) => format!("In {}", seconds(d)),
    };
    let name_w = rows
        .iter()
        .map(|r| r.name.len())
        .chain([7])
        .max()
        .unwrap_or(7);
    let num_w = numbers
        .iter()
        .map(String::len)
        .chain([title.len()])
        .max()
        .unwrap_or(5);
    if header {
        writeln!(out, "{:<name_w$}  {title:>num_w$}", "Counter")?;
    }
    for (row, number) in rows.iter().zip(&numbers) {
        // Names come from the kernel's files: escaped like any outside text.
        let name = crate::text::escape(&row.name);
        let reset = if row.change == Change::Reset {
            "  (reset: the counter went down; counted from 0)"
        } else {
            ""
        };
        writeln!(out, "{name:<name_w$}  {number:>num_w$}{reset}")?;
        if let Some(text) = row.explain {
            writeln!(out, "    {text}")?;
        }
    }
    Ok(())
}

/// `2s`, `0.5s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{s}s")
    }
}

#[derive(Serialize)]
struct JsonCounter {
    value: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    reset: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<&'static str>,
}

/// One object: `netns`, `basis` (`absolute`, `delta`, `interval`),
/// `interval_ms` (interval only) and `counters`, by name in the files'
/// order, each with its `value` now, its `delta` (unless absolute),
/// `reset` when it went down, and `explain` when it has a sentence.
pub fn counters_json(
    out: &mut dyn Write,
    place: &Place,
    rows: &[CounterRow],
    basis: Basis,
) -> io::Result<()> {
    let mut counters = Map::new();
    for r in rows {
        let c = JsonCounter {
            value: r.value,
            delta: match r.change {
                Change::Absolute => None,
                Change::Delta(_) | Change::Reset => Some(r.shown()),
            },
            reset: r.change == Change::Reset,
            explain: r.explain,
        };
        counters.insert(
            r.name.clone(),
            serde_json::to_value(c).map_err(io::Error::other)?,
        );
    }
    let tags = PlaceJson::new(place);
    let mut doc = Map::new();
    doc.insert(
        "netns".into(),
        serde_json::to_value(tags.netns()).map_err(io::Error::other)?,
    );
    doc.insert("basis".into(), basis.word().into());
    if let Basis::Interval(d) = basis {
        doc.insert(
            "interval_ms".into(),
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX).into(),
        );
    }
    doc.insert("counters".into(), counters.into());
    super::json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::counters::{Select, rows};
    use crate::model::Counter;

    fn c(name: &str, value: u64) -> Counter {
        Counter {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn names_first_sentences_under_them() {
        let now = [c("TcpExtListenOverflows", 12), c("IpInReceives", 3456)];
        let r = rows(&now, None, &Select::default());
        let mut out = Vec::new();
        counters_text(&mut out, &r, Basis::Absolute, true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Counter                Value\n\
             TcpExtListenOverflows     12\n    \
             connections dropped because an accept queue was full\n\
             IpInReceives            3456\n"
        );
        let before = [c("TcpExtListenOverflows", 20)];
        let r = rows(&now, Some(&before), &Select::default());
        let mut out = Vec::new();
        counters_text(
            &mut out,
            &r,
            Basis::Interval(Duration::from_millis(500)),
            false,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("TcpExtListenOverflows       12  (reset"),
            "{text}"
        );
    }

    #[test]
    fn json_has_value_delta_reset_explain() {
        let now = [c("TcpExtListenOverflows", 12), c("TcpOutRsts", 5)];
        let before = [c("TcpExtListenOverflows", 20), c("TcpOutRsts", 1)];
        let r = rows(&now, Some(&before), &Select::default());
        let place = Place {
            netns: std::sync::Arc::new(crate::model::Netns::unknown()),
            containers: Default::default(),
        };
        let mut out = Vec::new();
        counters_json(&mut out, &place, &r, Basis::SinceLastRun).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["basis"], "delta");
        assert_eq!(v["netns"], serde_json::Value::Null);
        let o = &v["counters"]["TcpExtListenOverflows"];
        assert_eq!(
            (o["value"].as_u64(), o["delta"].as_u64()),
            (Some(12), Some(12))
        );
        assert_eq!(o["reset"], true);
        assert!(o["explain"].as_str().unwrap().contains("accept queue"));
        assert_eq!(v["counters"]["TcpOutRsts"]["delta"], 4);
        assert!(v["counters"]["TcpOutRsts"].get("reset").is_none());
    }
}
