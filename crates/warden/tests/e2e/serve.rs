//! The demo as a new user starts it, and serving on PostgreSQL.

use serde_json::{json, Value};

use crate::support::{client, temp_dir, Warden};

async fn sign_in(url: &str, name: &str, password: &str) -> (reqwest::Client, String) {
    let http = client();
    let answer = http
        .post(format!("{url}/api/v1/session"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let cookie = answer.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (http, cookie)
}

#[tokio::test]
async fn the_demo_serves_a_platform_to_work() {
    let (_dir, data) = temp_dir();
    let warden = Warden::start(&["demo", "--accounts", "600"], &data);
    let (http, cookie) = sign_in(&warden.url, "analyst", "demo").await;
    let queues: Value = http
        .get(format!("{}/api/v1/queues", warden.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let queues = queues.as_array().unwrap();
    let with_work: Vec<&str> = queues
        .iter()
        .filter(|q| q["depth"].as_i64().unwrap() > 0)
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert!(
        with_work.len() >= 4,
        "demo cases spread over queues: {with_work:?}"
    );
    assert!(
        queues
            .iter()
            .any(|q| q["resolution_breaches"].as_i64().unwrap()
                + q["first_touch_breaches"].as_i64().unwrap()
                > 0),
        "some cases breach their SLA"
    );
    let resolved: Value = http
        .get(format!(
            "{}/api/v1/cases?status=resolved&limit=5",
            warden.url
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !resolved["cases"].as_array().unwrap().is_empty(),
        "some cases are already decided"
    );
    let stats: Value = http
        .get(format!("{}/api/v1/me", warden.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = stats["csrf_token"].as_str().unwrap();
    let claimed = http
        .post(format!("{}/api/v1/queues/spam/claim", warden.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), 200);
    warden.stop();
}

#[tokio::test]
async fn serving_on_postgresql() {
    let Ok(admin_url) = std::env::var("WARDEN_TEST_DATABASE_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "e2e: skipped PostgreSQL serve test: WARDEN_TEST_DATABASE_URL is not set"
        );
        return;
    };
    use sqlx::Connection;
    let schema = format!("warden_e2e_{:016x}", rand_suffix());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
    let (_dir, data) = temp_dir();
    let added = std::process::Command::new(crate::support::BINARY)
        .args([
            "user",
            "add",
            "ops",
            "--role",
            "admin",
            "--password-stdin",
            "--database-url",
            &url,
        ])
        .current_dir(&data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut child = std::process::Command::new(crate::support::BINARY)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
        .current_dir(&data)
        .env("WARDEN_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let base = line[line.find("http://").unwrap()..].trim().to_string();
    let ready: Value = client()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["backend"], "postgres");
    let signed_in = client()
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"name": "ops", "password": "a long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        ^ u64::from(std::process::id())
}
