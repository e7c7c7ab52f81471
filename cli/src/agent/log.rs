//! One line per agent action: readable by default, JSON lines with `--output json`.
use serde_json::{json, Value};

pub struct Log {
    pub json: bool,
}

impl Log {
    /// `action` on `rental` (if any), with extra fields.
    pub fn action(&self, action: &str, rental: Option<&str>, fields: Value) {
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if self.json {
            let mut line = json!({ "ts": ts, "action": action });
            if let Some(r) = rental {
                line["rental"] = json!(r);
            }
            if let Value::Object(map) = fields {
                for (k, v) in map {
                    line[k] = v;
                }
            }
            println!("{line}");
        } else {
            let mut text = format!("{ts} {action}");
            if let Some(r) = rental {
                text.push(' ');
                text.push_str(r);
            }
            if let Value::Object(map) = fields {
                for (k, v) in map {
                    let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    text.push_str(&format!(" {k}={v}"));
                }
            }
            println!("{text}");
        }
    }
}
