//! Peer timings: from a JSON file written by `benches/peers/peers.py --all`, or live from the
//! script in `--serve` mode, one problem at a time, interleaved with our own timings.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

/// Peer name -> seconds.
pub type PeerTimes = BTreeMap<String, f64>;

/// Where peer timings come from.
pub enum Peers {
    /// None asked for.
    None,
    /// Read from a file: (group, label) -> times.
    File(BTreeMap<(String, String), PeerTimes>),
    /// A running `peers.py --serve`.
    Live { child: Child, stdin: ChildStdin, stdout: BufReader<ChildStdout> },
}

fn parse_times(value: &Value) -> PeerTimes {
    value
        .as_object()
        .map(|map| map.iter().filter_map(|(k, v)| v.as_f64().map(|s| (k.clone(), s))).collect())
        .unwrap_or_default()
}

impl Peers {
    /// Loads a JSON file.
    pub fn from_file(path: &std::path::Path) -> Result<Peers, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let results =
            json["results"].as_array().ok_or_else(|| format!("{}: no `results` array", path.display()))?;
        let map = results
            .iter()
            .filter_map(|r| {
                Some((
                    (r["group"].as_str()?.to_string(), r["label"].as_str()?.to_string()),
                    parse_times(&r["peers"]),
                ))
            })
            .collect();
        Ok(Peers::File(map))
    }

    /// Starts `python3 peers.py --serve`; returns it with the peers' versions line.
    pub fn live(budget_s: f64) -> Result<(Peers, String), String> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/peers.py");
        let mut child = Command::new("python3")
            .args([script, "--serve", "--budget", &budget_s.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start python3 {script}: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut versions = String::new();
        stdout.read_line(&mut versions).map_err(|e| e.to_string())?;
        if versions.is_empty() {
            return Err("the peers script exited before answering (are numpy and scipy installed?)".into());
        }
        Ok((Peers::Live { child, stdin, stdout }, versions.trim().to_string()))
    }

    /// The peers' times for one workload.
    pub fn times(&mut self, group: &str, label: &str, problem: &Value) -> PeerTimes {
        match self {
            Peers::None => PeerTimes::new(),
            Peers::File(map) => map.get(&(group.to_string(), label.to_string())).cloned().unwrap_or_default(),
            Peers::Live { stdin, stdout, .. } => {
                let mut request = problem.clone();
                request["group"] = Value::from(group);
                request["label"] = Value::from(label);
                if writeln!(stdin, "{request}").and_then(|()| stdin.flush()).is_err() {
                    return PeerTimes::new();
                }
                let mut line = String::new();
                match stdout.read_line(&mut line) {
                    Ok(n) if n > 0 => serde_json::from_str::<Value>(&line)
                        .map(|v| parse_times(&v["peers"]))
                        .unwrap_or_default(),
                    _ => PeerTimes::new(),
                }
            }
        }
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        if let Peers::Live { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
