//! A fault-injecting HTTP proxy in front of a test validator's JSON-RPC port, for testing
//! what clients do when a real endpoint misbehaves. One request per connection: the
//! request is read, forwarded (or not), the answer relayed, and the connection closed.
//!
//! Modes:
//! - `Pass`: forward everything;
//! - `DropAfterSend`: forward a `sendTransaction` (so it lands) but close the connection
//!   without answering, and from then on refuse every request: the node vanished right
//!   after accepting the transaction;
//! - `TooManyRequests(n)`: answer HTTP 429 to the next `n` requests, then pass.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    DropAfterSend,
    /// Everything is refused (the state `DropAfterSend` ends in).
    Down,
    TooManyRequests(usize),
    /// Once a transaction has been sent, the next `n` account reads are answered by a node
    /// that has not caught up, as a load-balanced endpoint may route them.
    LagAfterSend(usize),
    /// The next `n` account reads are answered by a node that has not caught up.
    Lagging(usize),
}

pub struct Proxy {
    pub url: String,
    mode: Arc<Mutex<Mode>>,
    /// How many requests were answered with 429.
    pub throttled: Arc<AtomicUsize>,
    /// How many account reads were answered as missing (`LagAfterSend`).
    pub lagged: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// A proxy on a free loopback port in front of `upstream` (an http://host:port URL).
    pub fn start(upstream: &str) -> Self {
        let target = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let mode = Arc::new(Mutex::new(Mode::Pass));
        let throttled = Arc::new(AtomicUsize::new(0));
        let lagged = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, t, l, s) = (mode.clone(), throttled.clone(), lagged.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (m, t, l, target) = (m.clone(), t.clone(), l.clone(), target.clone());
                        std::thread::spawn(move || serve(conn, &target, &m, &t, &l));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy { url, mode, throttled, lagged, stop }
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body).
fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf);
        }
    }
}

/// Sends the request upstream on a fresh connection and returns the whole answer.
fn forward(request: &[u8], target: &str) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(target).ok()?;
    up.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    // Ask upstream to close after answering so the answer ends at EOF.
    let text = String::from_utf8_lossy(request);
    let fixed = if text.to_ascii_lowercase().contains("\r\nconnection:") {
        request.to_vec()
    } else {
        text.replacen("\r\n", "\r\nConnection: close\r\n", 1).into_bytes()
    };
    up.write_all(&fixed).ok()?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).ok()?;
    Some(answer)
}

fn serve(mut conn: TcpStream, target: &str, mode: &Mutex<Mode>, throttled: &AtomicUsize, lagged: &AtomicUsize) {
    let Some(request) = read_request(&mut conn) else { return };
    let text = String::from_utf8_lossy(&request).into_owned();
    let is_send = text.contains("\"sendTransaction\"");
    let current = *mode.lock().unwrap();
    match current {
        Mode::Down => {}
        Mode::TooManyRequests(n) if n > 0 => {
            *mode.lock().unwrap() = if n > 1 { Mode::TooManyRequests(n - 1) } else { Mode::Pass };
            throttled.fetch_add(1, Ordering::SeqCst);
            let body = r#"{"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests"},"id":1}"#;
            let _ = conn.write_all(http_answer("429 Too Many Requests", body).as_bytes());
        }
        Mode::LagAfterSend(n) if is_send => {
            *mode.lock().unwrap() = Mode::Lagging(n);
            if let Some(answer) = forward(&request, target) {
                let _ = conn.write_all(&answer);
            }
        }
        Mode::Lagging(n) if n > 0 && missing_accounts(&text).is_some() => {
            *mode.lock().unwrap() = Mode::Lagging(n - 1);
            lagged.fetch_add(1, Ordering::SeqCst);
            let body = missing_accounts(&text).unwrap_or_default();
            let _ = conn.write_all(http_answer("200 OK", &body).as_bytes());
        }
        Mode::DropAfterSend if is_send => {
            let _ = forward(&request, target);
            *mode.lock().unwrap() = Mode::Down;
        }
        _ => {
            if let Some(answer) = forward(&request, target) {
                let _ = conn.write_all(&answer);
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}

fn http_answer(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// For an account read, the answer of a node still at slot 1, before any of the accounts
/// asked for existed: it refuses a read that asks for a later slot (`minContextSlot`, error
/// -32016, as agave does) and answers any other with nothing found. Reads of sysvars alone
/// (the clock) are left to the real node: a node behind has them too, only older.
fn missing_accounts(request: &str) -> Option<String> {
    use serde_json::{json, Value};
    let body = request.split_once("\r\n\r\n")?.1;
    let call: Value = serde_json::from_str(body).ok()?;
    let keys = &call["params"][0];
    let sysvar = |k: &Value| k.as_str().is_some_and(|k| k.starts_with("Sysvar"));
    if sysvar(keys) || keys.as_array().is_some_and(|ks| ks.iter().all(sysvar)) {
        return None;
    }
    let config = &call["params"][1];
    let value = match call["method"].as_str()? {
        "getAccountInfo" => Value::Null,
        "getMultipleAccounts" => vec![Value::Null; call["params"][0].as_array()?.len()].into(),
        "getProgramAccounts" => json!([]),
        _ => return None,
    };
    let answer = if config["minContextSlot"].as_u64().is_some_and(|s| s > 1) {
        json!({"jsonrpc": "2.0", "error": {"code": -32016, "message": "Minimum context slot has not been reached", "data": {"contextSlot": 1}}, "id": call["id"]})
    } else if call["method"] == "getProgramAccounts" && config["withContext"] != json!(true) {
        json!({"jsonrpc": "2.0", "result": value, "id": call["id"]})
    } else {
        json!({"jsonrpc": "2.0", "result": {"context": {"slot": 1}, "value": value}, "id": call["id"]})
    };
    Some(answer.to_string())
}
