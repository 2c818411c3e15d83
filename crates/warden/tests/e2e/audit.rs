//! Signed audit checkpoints end to end, on SQLite and (with
//! `WARDEN_TEST_DATABASE_URL`) PostgreSQL: a key made by `audit keygen`,
//! checkpoints signed by `audit checkpoint` and by the running server, and
//! `audit verify` finding what the chain alone cannot — the newest records
//! removed, a chain rewritten from an edited record on — besides the
//! edits it always found.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::Row;

use warden_domain::audit::AuditEntry;

use crate::support::{client, database, temp_dir, text, Warden, BINARY};

/// Where the store is, and a direct connection to it for tampering.
enum Db {
    Sqlite(PathBuf, sqlx::SqliteConnection),
    Postgres(String, sqlx::PgConnection),
}

impl Db {
    /// The store arguments of a command.
    fn args(&self) -> Vec<String> {
        match self {
            Db::Sqlite(dir, _) => vec!["--data-dir".into(), dir.display().to_string()],
            Db::Postgres(url, _) => vec!["--database-url".into(), url.clone()],
        }
    }

    async fn execute(&mut self, sql: &str) {
        match self {
            Db::Sqlite(_, conn) => sqlx::query(sql).execute(conn).await.map(|_| ()),
            Db::Postgres(_, conn) => sqlx::query(sql).execute(conn).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn scalar(&mut self, sql: &str) -> i64 {
        match self {
            Db::Sqlite(_, conn) => sqlx::query_scalar::<_, i64>(sql).fetch_one(conn).await,
            Db::Postgres(_, conn) => sqlx::query_scalar::<_, i64>(sql).fetch_one(conn).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every audit record as stored: (entry, previous hash, hash).
    async fn records(&mut self) -> Vec<(AuditEntry, String, String)> {
        let sql = "SELECT seq, at, actor, action, target_kind, target_id, before_state, after_state, previous_hash, hash FROM audit_log ORDER BY seq";
        macro_rules! read {
            ($conn:expr) => {
                sqlx::query(sql)
                    .fetch_all($conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|row| {
                        let json = |name: &str| {
                            serde_json::from_str::<Value>(&row.get::<String, _>(name)).unwrap()
                        };
                        (
                            AuditEntry {
                                seq: row.get("seq"),
                                at_ms: row.get("at"),
                                actor: row.get("actor"),
                                action: row.get("action"),
                                target_kind: row.get("target_kind"),
                                target_id: row.get("target_id"),
                                before: json("before_state"),
                                after: json("after_state"),
                            },
                            row.get("previous_hash"),
                            row.get("hash"),
                        )
                    })
                    .collect()
            };
        }
        match self {
            Db::Sqlite(_, conn) => read!(conn),
            Db::Postgres(_, conn) => read!(conn),
        }
    }

    /// Writes a record's after-state and hashes back.
    async fn rewrite(&mut self, entry: &AuditEntry, previous_hash: &str, hash: &str) {
        let sql =
            "UPDATE audit_log SET after_state = $1, previous_hash = $2, hash = $3 WHERE seq = $4";
        let after = entry.after.to_string();
        match self {
            Db::Sqlite(_, conn) => sqlx::query(sql)
                .bind(&after)
                .bind(previous_hash)
                .bind(hash)
                .bind(entry.seq)
                .execute(conn)
                .await
                .map(|_| ()),
            Db::Postgres(_, conn) => sqlx::query(sql)
                .bind(&after)
                .bind(previous_hash)
                .bind(hash)
                .bind(entry.seq)
                .execute(conn)
                .await
                .map(|_| ()),
        }
        .unwrap();
    }
}

/// Runs `warden ARGS` in `dir` (whose `warden.toml`, if any, applies).
fn warden(dir: &Path, args: &[&str], db: Option<&Db>) -> Output {
    let mut command = Command::new(BINARY);
    command.args(args);
    if let Some(db) = db {
        command.args(db.args());
    }
    command
        .current_dir(dir)
        .env_remove("WARDEN_DATABASE_URL")
        .env_remove("WARDEN_AUDIT_SIGNING_KEY_FILE")
        .env("WARDEN_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run warden")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Exits 2 (the log was altered) and says `needle` on standard error.
fn tampered(output: Output, needle: &str) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout: {}\nstderr: {stderr}",
        text(&output.stdout)
    );
    assert!(stderr.contains(needle), "expected {needle:?} in:\n{stderr}");
    stderr
}

fn failed(output: Output, needle: &str) {
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{}", text(&output.stdout));
    assert!(stderr.contains(needle), "expected {needle:?} in:\n{stderr}");
}

/// Makes a signing key in `dir` and a `warden.toml` naming it; answers the
/// public key.
fn key_and_config(dir: &Path, extra: &str) -> String {
    let key = dir.join("audit.key");
    let public = ok(warden(
        dir,
        &["audit", "keygen", "--out", key.to_str().unwrap()],
        None,
    ));
    let public = public.trim().to_string();
    assert_eq!(public.len(), 44, "the public key alone: {public:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwritten.
    failed(
        warden(
            dir,
            &["audit", "keygen", "--out", key.to_str().unwrap()],
            None,
        ),
        "exists",
    );
    std::fs::write(
        dir.join("warden.toml"),
        format!(
            "[audit]\nsigning_key_file = {:?}\n{extra}",
            key.display().to_string()
        ),
    )
    .unwrap();
    public
}

/// The story on one backend: records, a checkpoint kept in a file, then
/// the log rewritten, cut and edited.
async fn checkpoint_story(dir: &Path, mut db: Db) {
    let public = key_and_config(dir, "");
    // Records: a user and a dozen tokens, one record each.
    let added = Command::new(BINARY)
        .args(["user", "add", "ops", "--role", "admin", "--password-stdin"])
        .args(db.args())
        .current_dir(dir)
        .env_remove("WARDEN_DATABASE_URL")
        .env("WARDEN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"a long password\n")?;
            child.wait_with_output()
        })
        .unwrap();
    ok(added);
    for n in 0..12 {
        let name = format!("t{n}");
        ok(warden(
            dir,
            &[
                "token", "create", "--user", "ops", "--scope", "read", "--name", &name,
            ],
            Some(&db),
        ));
    }
    let end = db.scalar("SELECT MAX(seq) FROM audit_log").await;
    assert!(end >= 13, "{end} records");

    // A checkpoint, stored and kept in a file.
    let file = dir.join("head.checkpoint");
    let file_arg = file.to_str().unwrap();
    let said = ok(warden(
        dir,
        &["audit", "checkpoint", "--out", file_arg],
        Some(&db),
    ));
    assert!(
        said.contains(&format!("record {end} signed by key")),
        "{said}"
    );
    let note = std::fs::read_to_string(&file).unwrap();
    assert!(note.starts_with("warden-audit-checkpoint/v1\n"), "{note}");
    assert!(note.contains(&format!("\nseq {end}\n")), "{note}");
    let listed = ok(warden(dir, &["audit", "checkpoints"], Some(&db)));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let verified = ok(warden(
        dir,
        &[
            "audit",
            "verify",
            "--checkpoint",
            file_arg,
            "--public-key",
            &public,
        ],
        Some(&db),
    ));
    assert!(
        verified.contains(&format!("{end} records verified"))
            && verified.contains("matches 2 signed checkpoints"),
        "{verified}"
    );

    // The checkpoint file is checked: another key, an altered field, a
    // missing key.
    let other = warden_domain::audit::checkpoint::AuditSigningKey::from_seed([9; 32])
        .public_key()
        .to_text();
    failed(
        warden(
            dir,
            &[
                "audit",
                "verify",
                "--checkpoint",
                file_arg,
                "--public-key",
                &other,
            ],
            Some(&db),
        ),
        "not by the key given",
    );
    let altered = dir.join("altered.checkpoint");
    std::fs::write(
        &altered,
        note.replace(&format!("\nseq {end}\n"), &format!("\nseq {}\n", end + 5)),
    )
    .unwrap();
    tampered(
        warden(
            dir,
            &["audit", "verify", "--checkpoint", altered.to_str().unwrap()],
            Some(&db),
        ),
        "does not match the checkpoint: it was altered or forged",
    );
    let bare = tempfile::tempdir().unwrap();
    failed(
        warden(
            bare.path(),
            &["audit", "verify", "--checkpoint", file_arg],
            Some(&db),
        ),
        "--public-key",
    );

    // A rewrite: record 3 edited and every hash after it recomputed. The
    // chain is intact; the checkpoints are not.
    let original = db.records().await;
    let mut previous = original[1].2.clone();
    for (entry, _, _) in &original[2..] {
        let mut entry = entry.clone();
        if entry.seq == 3 {
            entry.after = json!({"name": "nothing happened here"});
        }
        let hash = entry.chain_hash(&previous);
        db.rewrite(&entry, &previous, &hash).await;
        previous = hash;
    }
    let stderr = tampered(
        warden(dir, &["audit", "verify"], Some(&db)),
        &format!("audit record {end} is not the record checkpoint"),
    );
    assert!(stderr.contains("rewritten"), "{stderr}");
    assert!(stderr.contains("the chain itself is intact"), "{stderr}");
    tampered(
        warden(
            dir,
            &[
                "audit",
                "verify",
                "--checkpoint",
                file_arg,
                "--public-key",
                &public,
            ],
            Some(&db),
        ),
        &format!("the checkpoint in {}", file.display()),
    );
    failed(
        warden(dir, &["audit", "checkpoint"], Some(&db)),
        "refusing to sign",
    );
    for (entry, previous_hash, hash) in &original {
        db.rewrite(entry, previous_hash, hash).await;
    }
    ok(warden(dir, &["audit", "verify"], Some(&db)));

    // The newest 10 records removed: the stored checkpoints name the gap,
    // and nothing new is signed over it.
    db.execute(&format!("DELETE FROM audit_log WHERE seq > {}", end - 10))
        .await;
    let gap = format!(
        "the log ends at {} but checkpoint 1 signed {end}: 10 records are missing",
        end - 10
    );
    tampered(warden(dir, &["audit", "verify"], Some(&db)), &gap);
    failed(
        warden(dir, &["audit", "checkpoint"], Some(&db)),
        "refusing to sign",
    );
    // Whoever cut the log can delete the stored checkpoints too; the
    // chain alone then looks whole, and the file is what shows the cut.
    db.execute("DELETE FROM audit_checkpoints").await;
    let fooled = ok(warden(dir, &["audit", "verify"], Some(&db)));
    assert!(fooled.contains("records verified"), "{fooled}");
    tampered(
        warden(
            dir,
            &[
                "audit",
                "verify",
                "--checkpoint",
                file_arg,
                "--public-key",
                &public,
            ],
            Some(&db),
        ),
        &format!(
            "the log ends at {} but the checkpoint in {} signed {end}: 10 records are missing",
            end - 10,
            file.display()
        ),
    );

    // One record's details edited: `verify` names it, as it always did.
    db.execute("UPDATE audit_log SET after_state = '{\"name\":\"mallory\"}' WHERE seq = 2")
        .await;
    tampered(
        warden(dir, &["audit", "verify"], Some(&db)),
        "audit record 2 was edited",
    );
}

#[tokio::test]
async fn checkpoints_show_removed_newest_records_and_rewrites_on_sqlite() {
    let (_dir, data) = temp_dir();
    // Make the database file, then connect to it directly.
    ok(warden(
        &data,
        &["migrate", "--data-dir", data.to_str().unwrap()],
        None,
    ));
    let conn = database(&data).await;
    checkpoint_story(&data, Db::Sqlite(data.clone(), conn)).await;
}

#[tokio::test]
async fn checkpoints_show_removed_newest_records_and_rewrites_on_postgresql() {
    let Ok(admin_url) = std::env::var("WARDEN_TEST_DATABASE_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "e2e: skipped PostgreSQL checkpoint test: WARDEN_TEST_DATABASE_URL is not set"
        );
        return;
    };
    use sqlx::Connection;
    let schema = format!(
        "warden_e2e_audit_{:016x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            ^ u64::from(std::process::id())
    );
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
    let (_dir, data) = temp_dir();
    ok(warden(&data, &["migrate", "--database-url", &url], None));
    let conn = sqlx::PgConnection::connect(&url).await.unwrap();
    checkpoint_story(&data, Db::Postgres(url, conn)).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_server_signs_checkpoints_as_the_log_grows() {
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    let public = key_and_config(
        &data,
        "checkpoint_every_records = 10\ncheckpoint_every_seconds = 1\n",
    );
    let mut add = Command::new(BINARY)
        .args([
            "user",
            "add",
            "platform",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            data_arg,
        ])
        .current_dir(&data)
        .env("WARDEN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        add.stdin
            .take()
            .unwrap()
            .write_all(b"a long password\n")
            .unwrap();
    }
    assert!(add.wait().unwrap().success());
    let token = ok(warden(
        &data,
        &[
            "token",
            "create",
            "--user",
            "platform",
            "--scope",
            "ingest",
            "--data-dir",
            data_arg,
        ],
        None,
    ));
    let token = token.trim();
    let server = Warden::start(&["serve"], &data);
    let http = client();
    for n in 0..25 {
        let answer = http
            .post(format!("{}/api/v1/reports", server.url))
            .bearer_auth(token)
            .json(&json!({"id": format!("rep_{n}"), "subject": {"kind": "content", "id": format!("p{n}")}, "reason": "spam", "source": "user_report"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }
    // Every 10 records or every second: a checkpoint covers the last
    // report soon.
    let mut db = database(&data).await;
    let end = sqlx::query_scalar::<_, i64>("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let mut covered = 0;
    for _ in 0..100 {
        covered =
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints")
                .fetch_one(&mut db)
                .await
                .unwrap();
        if covered >= end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(covered >= end, "checkpoints cover {covered} of {end}");
    server.stop();
    let listed = ok(warden(
        &data,
        &["audit", "checkpoints", "--data-dir", data_arg],
        None,
    ));
    assert!(listed.lines().count() >= 2, "{listed}");
    let verified = ok(warden(
        &data,
        &[
            "audit",
            "verify",
            "--public-key",
            &public,
            "--data-dir",
            data_arg,
        ],
        None,
    ));
    assert!(verified.contains("signed checkpoint"), "{verified}");
}
