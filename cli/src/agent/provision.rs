//! Running the provider's commands: `provision` (prints connection details as JSON on
//! stdout, or exits non-zero) and `teardown`, each through `sh -c` with a timeout and the
//! rental described in environment variables.
use std::process::Stdio;
use std::time::Duration;

use gpu_escrow_sdk::access::ConnectionDetails;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Runs `command` with `env`; kills it (and fails) after `timeout`. Returns its stdout.
async fn run(command: &str, env: &[(String, String)], timeout: Duration) -> Result<String, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let work = async {
        let (mut out, mut err) = (String::new(), String::new());
        let (a, b, status) =
            tokio::join!(stdout.read_to_string(&mut out), stderr.read_to_string(&mut err), child.wait());
        a.and(b).map_err(|e| e.to_string())?;
        let status = status.map_err(|e| e.to_string())?;
        Ok::<_, String>((status, out, err))
    };
    match tokio::time::timeout(timeout, work).await {
        Err(_) => Err(format!("`{command}` timed out after {} s", timeout.as_secs())),
        Ok(Err(e)) => Err(format!("`{command}`: {e}")),
        Ok(Ok((status, _, err))) if !status.success() => {
            let why = err.lines().last().unwrap_or("").trim();
            Err(format!(
                "`{command}` exited with {status}{}",
                if why.is_empty() { String::new() } else { format!(": {why}") }
            ))
        }
        Ok(Ok((_, out, _))) => Ok(out),
    }
}

/// Provisions a machine for a rental; the command's stdout must be the connection details.
pub async fn provision(
    command: &str,
    env: &[(String, String)],
    timeout: Duration,
) -> Result<ConnectionDetails, String> {
    let out = run(command, env, timeout).await?;
    let details: ConnectionDetails = serde_json::from_str(out.trim())
        .map_err(|e| format!("`{command}` printed no valid connection details JSON ({e}): {}", out.trim()))?;
    details.validate().map_err(|e| e.to_string())?;
    Ok(details)
}

pub async fn teardown(command: &str, env: &[(String, String)], timeout: Duration) -> Result<(), String> {
    run(command, env, timeout).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        vec![("GPU_ESCROW_RENTAL".into(), "R1".into())]
    }

    #[tokio::test]
    async fn provision_reads_details_and_reports_failures() {
        let ok = r#"echo "{\"host\":\"10.0.0.1\",\"user\":\"$GPU_ESCROW_RENTAL\"}""#;
        let d = provision(ok, &env(), Duration::from_secs(5)).await.unwrap();
        assert_eq!((d.host.as_deref(), d.user.as_deref()), (Some("10.0.0.1"), Some("R1")));
        let err = provision("echo nope >&2; exit 3", &env(), Duration::from_secs(5)).await.unwrap_err();
        assert!(err.contains("exit status: 3") && err.contains("nope"), "{err}");
        let err = provision("echo not-json", &env(), Duration::from_secs(5)).await.unwrap_err();
        assert!(err.contains("no valid connection details"), "{err}");
        let err = provision("sleep 5", &env(), Duration::from_millis(200)).await.unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        let err = provision("echo '{}'", &env(), Duration::from_secs(5)).await.unwrap_err();
        assert!(err.contains("host"), "{err}");
    }
}
