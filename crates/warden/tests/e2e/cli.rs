//! The command line: users, tokens, and audit verification that finds edits
//! and deletions.

use crate::support::{client, database, run, temp_dir, text, Warden};

#[tokio::test]
async fn users_tokens_and_a_tampered_audit_chain() {
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    let added = run(
        &[
            "user",
            "add",
            "ops",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            data_arg,
        ],
        "a long password\n",
        &data,
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let short = run(
        &[
            "user",
            "add",
            "weak",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            data_arg,
        ],
        "short\n",
        &data,
    );
    assert!(!short.status.success());
    assert!(
        text(&short.stderr).contains("at least 8"),
        "{}",
        text(&short.stderr)
    );
    let bad_role = run(
        &[
            "user",
            "add",
            "x",
            "--role",
            "wizard",
            "--password-stdin",
            "--data-dir",
            data_arg,
        ],
        "a long password\n",
        &data,
    );
    assert!(text(&bad_role.stderr).contains("unknown role"));

    let passwd = run(
        &[
            "user",
            "passwd",
            "ops",
            "--password-stdin",
            "--data-dir",
            data_arg,
        ],
        "another long password\n",
        &data,
    );
    assert!(passwd.status.success(), "{}", text(&passwd.stderr));
    let created = run(
        &[
            "token",
            "create",
            "--user",
            "ops",
            "--scope",
            "ingest",
            "--data-dir",
            data_arg,
        ],
        "",
        &data,
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout);
    let token = token.trim();
    assert!(
        token.starts_with("wdn_") && !token.contains(char::is_whitespace),
        "the token alone on stdout: {token:?}"
    );

    let warden = Warden::start(&["serve"], &data);
    let answer = client()
        .post(format!("{}/api/v1/reports", warden.url))
        .bearer_auth(token)
        .json(&serde_json::json!({"id": "rep_1", "subject": {"kind": "content", "id": "p1"}, "reason": "spam", "source": "user_report"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    warden.stop();

    let listed = run(&["user", "list", "--data-dir", data_arg], "", &data);
    assert!(text(&listed.stdout).contains("ops"));
    let verified = run(&["audit", "verify", "--data-dir", data_arg], "", &data);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(
        // Four changes, and `serve` publishing the first taxonomy version.
        text(&verified.stdout).contains("5 records verified"),
        "{}",
        text(&verified.stdout)
    );

    let mut db = database(&data).await;
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .execute(&mut db)
        .await
        .unwrap();
    let edited = run(&["audit", "verify", "--data-dir", data_arg], "", &data);
    assert!(!edited.status.success());
    assert!(
        text(&edited.stderr).contains("audit record 2 was edited"),
        "{}",
        text(&edited.stderr)
    );
    sqlx::query("UPDATE audit_log SET actor = 'cli' WHERE seq = 2")
        .execute(&mut db)
        .await
        .unwrap();
    assert!(run(&["audit", "verify", "--data-dir", data_arg], "", &data)
        .status
        .success());
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&mut db)
        .await
        .unwrap();
    let deleted = run(&["audit", "verify", "--data-dir", data_arg], "", &data);
    assert!(!deleted.status.success());
    assert!(
        text(&deleted.stderr).contains("audit record 2 is missing"),
        "{}",
        text(&deleted.stderr)
    );
}

#[test]
fn help_is_complete_and_errors_say_what_to_do() {
    let (_dir, data) = temp_dir();
    for command in [
        &["--help"][..],
        &["serve", "--help"],
        &["demo", "--help"],
        &["token", "create", "--help"],
        &["audit", "verify", "--help"],
        &["bench", "--help"],
    ] {
        let output = run(command, "", &data);
        assert!(output.status.success(), "{command:?}");
        assert!(text(&output.stdout).contains("Usage"), "{command:?}");
    }
    let unknown = run(
        &[
            "token",
            "create",
            "--user",
            "ghost",
            "--scope",
            "read",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        "",
        &data,
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("warden user add"),
        "{}",
        text(&unknown.stderr)
    );
}

#[tokio::test]
async fn teams_and_who_minted_a_token_on_the_command_line() {
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    let added = run(
        &[
            "user",
            "add",
            "cara",
            "--role",
            "analyst",
            "--team",
            "legal",
            "--team",
            "child_safety",
            "--password-stdin",
            "--data-dir",
            data_arg,
        ],
        "a long password\n",
        &data,
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(
        text(&added.stdout).contains("teams child_safety, legal"),
        "{}",
        text(&added.stdout)
    );
    let shown = run(
        &["user", "teams", "cara", "--data-dir", data_arg],
        "",
        &data,
    );
    assert_eq!(text(&shown.stdout).trim(), "cara is in child_safety, legal");
    let set = run(
        &[
            "user",
            "teams",
            "cara",
            "--set",
            "fraud_ring, legal",
            "--data-dir",
            data_arg,
        ],
        "",
        &data,
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert_eq!(text(&set.stdout).trim(), "cara is in fraud_ring, legal");
    let bad = run(
        &[
            "user",
            "teams",
            "cara",
            "--set",
            "Child Safety",
            "--data-dir",
            data_arg,
        ],
        "",
        &data,
    );
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("team"), "{}", text(&bad.stderr));
    let cleared = run(
        &["user", "teams", "cara", "--set", "", "--data-dir", data_arg],
        "",
        &data,
    );
    assert_eq!(text(&cleared.stdout).trim(), "cara is in no team");
    let listed = run(&["user", "list", "--data-dir", data_arg], "", &data);
    assert!(text(&listed.stdout).contains("teams"));

    let created = run(
        &[
            "token",
            "create",
            "--user",
            "cara",
            "--scope",
            "review",
            "--data-dir",
            data_arg,
        ],
        "",
        &data,
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let tokens = run(&["token", "list", "--data-dir", data_arg], "", &data);
    let line = text(&tokens.stdout)
        .lines()
        .find(|l| l.contains("cara-review"))
        .unwrap()
        .to_string();
    assert!(
        line.trim_end().ends_with("system"),
        "the command line mints as system: {line}"
    );
    let verified = run(&["audit", "verify", "--data-dir", data_arg], "", &data);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
}
