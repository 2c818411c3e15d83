//! Starting and stopping the binary, and running its commands.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const BINARY: &str = env!("CARGO_BIN_EXE_warden");

/// A running `warden serve` or `warden demo`.
pub struct Warden {
    child: Child,
    pub url: String,
}

impl Warden {
    /// Starts `warden ARGS --listen 127.0.0.1:0` and waits for its address.
    pub fn start(args: &[&str], data_dir: &Path) -> Warden {
        let mut child = Command::new(BINARY)
            .args(args)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .current_dir(data_dir)
            .env("WARDEN_LOG", "warn")
            .env_remove("WARDEN_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start warden");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("warden exited before listening")
                .expect("read stdout");
            if let Some(at) = line.find("http://") {
                if line.contains("listening on") {
                    break line[at..].split_whitespace().next().unwrap().to_string();
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Warden { child, url }
    }

    /// Kills the process at once, as a power cut or OOM killer would.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL warden");
        self.child.wait().expect("reap warden");
    }

    /// Asks the process to stop (SIGTERM) and waits for it.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if self.child.try_wait().expect("wait").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().expect("kill after timeout");
        self.child.wait().expect("reap");
    }
}

impl Drop for Warden {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `warden ARGS` with `stdin`, in `dir`.
pub fn run(args: &[&str], stdin: &str, dir: &Path) -> Output {
    let mut child = Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env_remove("WARDEN_DATABASE_URL")
        .env("WARDEN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run warden");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("wait for warden")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn temp_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().to_path_buf();
    (dir, path)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The SQLite database of a data directory, opened directly.
pub async fn database(data_dir: &Path) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}",
        data_dir.join("warden.db").display()
    ))
    .await
    .expect("open the database file")
}
