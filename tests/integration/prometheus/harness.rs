//! A real Prometheus server for tests: Debian's `prometheus` binary (installed by
//! `scripts/test`) scraping its targets and evaluating the alerting rules every second, with its
//! storage in a temp dir, and its HTTP API queried with PromQL.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A child process killed when the test is done with it (or panics).
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A file of this repository, as text.
pub fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// A free loopback port (bound, then released for the process that will use it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `prometheus` binary, from `AGENTPROF_TEST_PROMETHEUS` or the PATH.
fn binary() -> PathBuf {
    tool("prometheus", "AGENTPROF_TEST_PROMETHEUS")
}

/// The `promtool` binary (Debian's `prometheus` package has it), from `AGENTPROF_TEST_PROMTOOL`
/// or the PATH.
pub fn promtool() -> PathBuf {
    tool("promtool", "AGENTPROF_TEST_PROMTOOL")
}

fn tool(name: &str, variable: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed: run scripts/test, which installs Debian's prometheus \
             package (apt-get install prometheus, which has both prometheus and promtool) that \
             these tests scrape agentprof with and check the alerting rules with"
        )
    })
}

/// A running Prometheus.
pub struct Prometheus {
    pub addr: SocketAddr,
    log: PathBuf,
    _child: Killed,
}

impl Prometheus {
    /// Starts Prometheus with the shipped `dashboards/prometheus.yml`, pointed at `target`,
    /// scraping and evaluating the shipped `dashboards/alerts.yml` every second; waits until it
    /// is ready.
    pub fn start(dir: &Path, target: SocketAddr) -> Prometheus {
        Self::start_with(dir, &[target], &repo_file("dashboards/alerts.yml"))
    }

    /// [`Prometheus::start`] scraping every one of `targets`, with `alerts` as the rule file
    /// the shipped config loads (`alerts.yml` next to it).
    pub fn start_with(dir: &Path, targets: &[SocketAddr], alerts: &str) -> Prometheus {
        let shipped = repo_file("dashboards/prometheus.yml");
        assert!(
            shipped.contains("'127.0.0.1:9464'")
                && shipped.contains("scrape_interval: 5s")
                && shipped.contains("evaluation_interval: 5s")
                && shipped.contains("- alerts.yml"),
            "dashboards/prometheus.yml changed shape; update this test's substitutions"
        );
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            shipped
                .replace("'127.0.0.1:9464'", &targets.join(", "))
                .replace(": 5s", ": 1s"),
        )
        .unwrap();
        // Relative rule files are resolved against the config file's directory.
        std::fs::write(dir.join("alerts.yml"), alerts).unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = dir.join("prometheus.log");
        let child = Command::new(binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting prometheus");
        let prometheus = Prometheus {
            addr,
            log,
            _child: Killed(child),
        };
        prometheus.wait_until("Prometheus is ready", Duration::from_secs(30), || {
            get(addr, "/-/ready").is_some_and(|(status, _)| status == 200)
        });
        prometheus
    }

    /// Polls `done` every 100 ms until it holds; panics with `what` and Prometheus' log after
    /// `limit`.
    pub fn wait_until(&self, what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + limit;
        while !done() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}; prometheus log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An instant query: the result vector as (labels, value) pairs.
    pub fn query(&self, promql: &str) -> Vec<(Value, f64)> {
        let path = format!("/api/v1/query?query={}", percent_encode(promql));
        let (status, body) = get(self.addr, &path)
            .unwrap_or_else(|| panic!("prometheus did not answer the query {promql}"));
        let json: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("query {promql}: {e}: {body}"));
        assert_eq!(status, 200, "query {promql} failed: {body}");
        assert_eq!(json["status"], "success", "query {promql}: {body}");
        let data = &json["data"];
        let samples = match data["resultType"].as_str() {
            Some("vector") => data["result"].as_array().cloned().unwrap_or_default(),
            Some("scalar") => vec![serde_json::json!({"metric": {}, "value": data["result"]})],
            other => panic!("query {promql}: unexpected result type {other:?}"),
        };
        samples
            .into_iter()
            .map(|s| {
                let value = s["value"][1].as_str().unwrap().parse::<f64>().unwrap();
                (s["metric"].clone(), value)
            })
            .collect()
    }

    /// The value of a query that returns one series (or nothing: `None`).
    pub fn scalar(&self, promql: &str) -> Option<f64> {
        let result = self.query(promql);
        assert!(result.len() <= 1, "{promql} returned {result:?}");
        result.first().map(|(_, v)| *v)
    }

    /// A query by one label: label value → sample value.
    pub fn by(&self, label: &str, promql: &str) -> std::collections::BTreeMap<String, f64> {
        self.query(promql)
            .into_iter()
            .map(|(metric, value)| {
                let key = metric[label]
                    .as_str()
                    .unwrap_or_else(|| panic!("{promql}: no {label} in {metric}"));
                (key.to_string(), value)
            })
            .collect()
    }
}

/// `GET path` over a fresh HTTP/1.0 connection: (status, body), or `None` if nothing answered.
pub fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
