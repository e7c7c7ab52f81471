//! Human-readable output by default; `--output json` prints one JSON document with stable
//! field names (snake_case, amounts in base units plus a decimal string).
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// What a command produced: machine fields and the text a person reads.
pub struct Output {
    pub json: Value,
    pub human: String,
}

impl Output {
    pub fn new(json: Value, human: impl Into<String>) -> Self {
        Output { json, human: human.into() }
    }

    pub fn print(&self, format: Format) {
        match format {
            Format::Human => println!("{}", printable_text(self.human.trim_end())),
            Format::Json => println!("{}", serde_json::to_string_pretty(&self.json).expect("JSON values serialise")),
        }
    }
}

/// `s` with every control character shown as an escape (`\u{1b}`), newlines and tabs
/// included: for strings others chose (listing fields, token symbols), so none can move the
/// cursor, retitle the terminal or forge a line of output.
pub fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// As [`printable`], keeping the line breaks and tabs of the CLI's own layout.
fn printable_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

/// Renders rows as an aligned text table; cells are [`printable`], so a cell is one line.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| printable(c)).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3_600, (secs % 3_600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// A unix time for people: local date and time, and how far from now ("in 58 min").
pub fn when(unix: i64) -> String {
    use chrono::{Local, TimeZone};
    let Some(t) = Local.timestamp_opt(unix, 0).single() else { return unix.to_string() };
    let now = chrono::Utc::now().timestamp();
    format!("{} ({})", t.format("%Y-%m-%d %H:%M:%S %Z"), relative(unix - now))
}

/// "in 58 min", "3 h 05 min ago", "now".
pub fn relative(delta_secs: i64) -> String {
    let d = delta_secs.unsigned_abs();
    if d < 5 {
        return "now".into();
    }
    let amount = match d {
        0..=59 => format!("{d} s"),
        60..=3_599 => format!("{} min", d / 60),
        3_600..=172_799 => format!("{} h {:02} min", d / 3_600, (d % 3_600) / 60),
        _ => format!("{} days", d / 86_400),
    };
    if delta_secs > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// Local date and time with the UTC offset, for files people read ("2026-01-05 14:03:00 +01:00").
pub fn local(unix: i64) -> Option<String> {
    use chrono::{Local, TimeZone};
    Local.timestamp_opt(unix, 0).single().map(|t| t.format("%Y-%m-%d %H:%M:%S %:z").to_string())
}

/// ISO 8601 (UTC) for JSON and CSV; None for an unset time.
pub fn iso(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_others_chose_cannot_drive_the_terminal() {
        let hostile = "RTX 4090\u{1b}]0;owned\u{7}\nfake row";
        assert_eq!(printable(hostile), "RTX 4090\\u{1b}]0;owned\\u{7}\\u{a}fake row");
        let t = table(&["GPU", "REGION"], &[vec![hostile.into(), "eu".into()]]);
        assert_eq!(t.lines().count(), 2, "{t}");
        assert!(!t.contains('\u{1b}'));
        assert_eq!(printable_text("a\n\tb\u{1b}[2J"), "a\n\tb\\u{1b}[2J");
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(0), "now");
        assert_eq!(relative(42), "in 42 s");
        assert_eq!(relative(58 * 60 + 10), "in 58 min");
        assert_eq!(relative(-(3 * 3_600 + 5 * 60)), "3 h 05 min ago");
        assert_eq!(relative(3 * 86_400), "in 3 days");
        assert_eq!(iso(1_800_000_000).unwrap(), "2027-01-15T08:00:00Z");
    }
}
