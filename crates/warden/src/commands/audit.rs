//! `warden audit ...`: verify the hash chain and hold it against signed
//! checkpoints, make a signing key, sign and list checkpoints; and the
//! server's task that signs one every N records or T seconds.
//!
//! A checkpoint is signed only over records that were verified: the ones
//! since the newest stored checkpoint this key signed (which must still
//! match the log), or the whole log when there is none. So a checkpoint
//! never vouches for a log that was already cut or rewritten.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use warden_domain::audit::checkpoint::{
    group_thousands, Anchor, AnchorCheck, AnchorFault, AuditPublicKey, AuditSigningKey, Checkpoint,
    CheckpointError, SignedCheckpoint,
};
use warden_domain::audit::{ChainFault, ChainVerifier};
use warden_domain::limits::{
    AUDIT_CHECKPOINTS_MAX, AUDIT_KEY_FILE_BYTES_MAX, AUDIT_VERIFY_PAGE, CHECKPOINT_TEXT_BYTES_MAX,
};
use warden_domain::Timestamp;
use warden_store::prelude::*;
use warden_store::SqlStore;

use super::open_store;
use crate::cli::{AuditCommand, StoreArgs};
use crate::config::Config;
use crate::progress;

/// Exit status of a verification that found the log altered.
const TAMPERED: u8 = 2;

/// How often the server looks at the log's head.
const HEAD_POLL: StdDuration = StdDuration::from_secs(1);

/// `warden audit ...`.
pub async fn run(config: &Config, command: AuditCommand) -> Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            checkpoint,
            public_key,
            store,
        } => verify(config, &store, checkpoint.as_deref(), public_key.as_deref()).await,
        AuditCommand::Keygen { out } => keygen(config, out),
        AuditCommand::Checkpoint { out, store } => checkpoint(config, &store, out.as_deref()).await,
        AuditCommand::Checkpoints { store } => list(config, &store).await,
    }
}

/// Reads the private key file at `path`. A file others may read is
/// refused on Unix: the key is what makes checkpoints worth anything.
pub fn read_signing_key(path: &Path) -> Result<AuditSigningKey> {
    let context = || format!("cannot read the audit signing key {}", path.display());
    let file = std::fs::File::open(path).with_context(context)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().with_context(context)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "the audit signing key {} may be read by others (mode {:o}); `chmod 600` it",
                path.display(),
                mode & 0o777
            );
        }
    }
    let mut text = String::new();
    file.take(AUDIT_KEY_FILE_BYTES_MAX + 1)
        .read_to_string(&mut text)
        .with_context(context)?;
    if text.len() as u64 > AUDIT_KEY_FILE_BYTES_MAX {
        bail!(
            "{} is longer than {AUDIT_KEY_FILE_BYTES_MAX} bytes: not an audit signing key",
            path.display()
        );
    }
    AuditSigningKey::parse(&text).with_context(|| format!("{}", path.display()))
}

/// The configured signing key, if any.
fn configured_key(config: &Config) -> Result<Option<AuditSigningKey>> {
    config
        .audit
        .signing_key_file()
        .map(|path| read_signing_key(&path))
        .transpose()
}

/// `warden audit keygen`.
fn keygen(config: &Config, out: Option<PathBuf>) -> Result<ExitCode> {
    use rand::RngCore;
    let Some(path) = out.or_else(|| config.audit.signing_key_file()) else {
        bail!("name the key file: `warden audit keygen --out FILE`, then set [audit] signing_key_file to it");
    };
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let key = AuditSigningKey::from_seed(seed);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} exists: keygen never overwrites a key; move it away or pick another path",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot create {}: {error}", path.display())
        }
    })?;
    file.write_all(key.to_file_text().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let public = key.public_key();
    println!("{}", public.to_text());
    eprintln!(
        "wrote the audit signing key {} (key id {}, mode 0600). Set [audit] signing_key_file to it; \
         give the public key above to whoever checks checkpoints (`warden audit verify --public-key KEY`).",
        path.display(),
        public.key_id()
    );
    Ok(ExitCode::SUCCESS)
}

/// `warden audit checkpoint`.
async fn checkpoint(config: &Config, args: &StoreArgs, out: Option<&Path>) -> Result<ExitCode> {
    let Some(key) = configured_key(config)? else {
        bail!("no signing key: set [audit] signing_key_file (or WARDEN_AUDIT_SIGNING_KEY_FILE); make one with `warden audit keygen --out FILE`");
    };
    let store = open_store(config, args).await?;
    let (id, signed) = sign_head(&store, &key, Utc::now()).await?;
    let text = signed.to_text();
    match out {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "checkpoint {id}: record {} signed by key {}; written to {}",
                group_thousands(signed.checkpoint.seq),
                signed.checkpoint.key_id,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `warden audit checkpoints`.
async fn list(config: &Config, args: &StoreArgs) -> Result<ExitCode> {
    let store = open_store(config, args).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<8} {:>14} {:<24} {:<16} hash",
        "id", "record", "signed at", "key"
    )?;
    for stored in store.audit_checkpoints(AUDIT_CHECKPOINTS_MAX).await? {
        match SignedCheckpoint::parse(&stored.text) {
            Ok(signed) => {
                let c = &signed.checkpoint;
                writeln!(
                    out,
                    "{:<8} {:>14} {:<24} {:<16} {}",
                    stored.id,
                    group_thousands(c.seq),
                    c.signed_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    c.key_id,
                    c.hash
                )?;
            }
            Err(error) => writeln!(out, "{:<8} does not parse: {error}", stored.id)?,
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Signs a checkpoint of the log's newest record and stores it; answers
/// its id. The records after the newest stored checkpoint of this key are
/// verified first (all of them when there is none), and that checkpoint
/// must still match the log: a log that was cut or rewritten is refused,
/// never signed.
pub async fn sign_head(
    store: &SqlStore,
    key: &AuditSigningKey,
    now: Timestamp,
) -> Result<(i64, SignedCheckpoint)> {
    let Some(head) = store.audit_head().await? else {
        bail!("the audit log is empty: there is nothing to sign");
    };
    let first = store.audit_page(0, 1).await?;
    let Some(first) = first.first().filter(|r| r.entry.seq == 1) else {
        bail!("audit record 1 is missing (deleted?): refusing to sign; run `warden audit verify`");
    };
    let public = key.public_key();
    let mut verifier = ChainVerifier::default();
    let mut checked_from = 1;
    if let Some((label, base)) = newest_own_checkpoint(store, &public).await? {
        let mut check = AnchorCheck::new(vec![Anchor {
            label: label.clone(),
            checkpoint: base.clone(),
        }]);
        check.observe(first);
        let at = store.audit_page(base.seq - 1, 1).await?;
        match at.first().filter(|r| r.entry.seq == base.seq) {
            Some(record) => check.observe(record),
            None if base.seq <= head.entry.seq => bail!(
                "audit record {} (which {} signed) is missing (deleted?): refusing to sign; run `warden audit verify`",
                group_thousands(base.seq),
                label
            ),
            None => {}
        }
        if let Some(fault) = check.finish(head.entry.seq).into_iter().next() {
            bail!("{fault}; refusing to sign: run `warden audit verify`");
        }
        verifier = ChainVerifier::resume(base.seq + 1, &base.hash);
        checked_from = base.seq + 1;
    }
    let mut after = checked_from - 1;
    while after < head.entry.seq {
        let page = store.audit_page(after, AUDIT_VERIFY_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.entry.seq;
        for record in page.iter().take_while(|r| r.entry.seq <= head.entry.seq) {
            verifier.check(record).map_err(|fault| {
                anyhow::anyhow!("audit chain broken: {fault}; refusing to sign")
            })?;
        }
    }
    if verifier.next_seq() <= head.entry.seq {
        bail!(
            "audit records {} to {} could not be read: refusing to sign",
            verifier.next_seq(),
            head.entry.seq
        );
    }
    let signed = key.sign(Checkpoint::of_head(first, &head, now));
    let id = store.save_audit_checkpoint(&signed).await?;
    Ok((id, signed))
}

/// The newest stored checkpoint that `key` signed (among the newest
/// [`AUDIT_CHECKPOINTS_MAX`]), with its label.
async fn newest_own_checkpoint(
    store: &SqlStore,
    key: &AuditPublicKey,
) -> Result<Option<(String, Checkpoint)>> {
    for stored in store.audit_checkpoints(AUDIT_CHECKPOINTS_MAX).await? {
        if let Ok(signed) = SignedCheckpoint::parse(&stored.text) {
            if signed.verify(key).is_ok() {
                return Ok(Some((
                    format!("checkpoint {}", stored.id),
                    signed.checkpoint,
                )));
            }
        }
    }
    Ok(None)
}

/// `warden audit verify`: the chain, then the checkpoints.
async fn verify(
    config: &Config,
    args: &StoreArgs,
    file: Option<&Path>,
    public_key: Option<&str>,
) -> Result<ExitCode> {
    let key = match public_key {
        Some(text) => Some(AuditPublicKey::parse(text).context("--public-key")?),
        None => configured_key(config)?.map(|k| k.public_key()),
    };
    let mut findings = Findings::default();
    if let Some(path) = file {
        let Some(key) = &key else {
            bail!("--checkpoint needs the public key that signed it: give --public-key KEY (printed by `warden audit keygen`) or configure [audit] signing_key_file");
        };
        findings.file(path, key)?;
    }
    let store = open_store(config, args).await?;
    let stored = store.audit_checkpoints(AUDIT_CHECKPOINTS_MAX).await?;
    let stored_count = stored.len();
    for row in stored {
        findings.stored(format!("checkpoint {}", row.id), &row.text, key.as_ref());
    }
    if key.is_none() && stored_count > 0 {
        findings.notes.push("the stored checkpoints' signatures were not checked: give --public-key or configure [audit] signing_key_file".into());
    }
    let Findings {
        anchors,
        faults,
        notes,
    } = findings;
    let anchored = anchors.len();
    let newest = anchors.iter().map(|a| a.checkpoint.seq).max();
    let mut check = AnchorCheck::new(anchors);
    let mut verifier = ChainVerifier::default();
    let (after, chain_fault) = walk_chain(&store, &mut check, &mut verifier).await?;
    store.close().await;
    for note in &notes {
        eprintln!("note: {note}");
    }
    if let Some(fault) = chain_fault {
        eprintln!("audit chain broken: {fault}");
        eprintln!("{} records before it verified; restore the database from a backup and investigate who changed it", verifier.checked());
        for fault in &faults {
            eprintln!("{fault}");
        }
        return Ok(ExitCode::from(TAMPERED));
    }
    // Every record read verified, so the last one read is the log's end.
    let anchor_faults: Vec<AnchorFault> = check.finish(after);
    if !faults.is_empty() || !anchor_faults.is_empty() {
        for fault in &faults {
            eprintln!("{fault}");
        }
        for fault in &anchor_faults {
            eprintln!("audit log does not match a signed checkpoint: {fault}");
        }
        eprintln!(
            "the chain itself is intact ({} records); restore the database from a backup and investigate who changed it",
            verifier.checked()
        );
        return Ok(ExitCode::from(TAMPERED));
    }
    println!(
        "audit chain intact: {} records verified",
        verifier.checked()
    );
    if let Some(newest) = newest {
        println!(
            "matches {anchored} signed checkpoint{} (the newest covers record {})",
            if anchored == 1 { "" } else { "s" },
            group_thousands(newest)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The checkpoints to check the log against, and what is wrong or unchecked.
#[derive(Default)]
struct Findings {
    anchors: Vec<Anchor>,
    faults: Vec<String>,
    notes: Vec<String>,
}

impl Findings {
    /// The checkpoint in the file at `path`, which `key` must have signed.
    fn file(&mut self, path: &Path, key: &AuditPublicKey) -> Result<()> {
        let label = format!("the checkpoint in {}", path.display());
        let signed = read_checkpoint_file(path)?;
        match signed.verify(key) {
            Ok(()) => self.anchors.push(Anchor {
                label,
                checkpoint: signed.checkpoint,
            }),
            Err(error) => self.faults.push(format!("{label} is not valid: {error}")),
        }
        Ok(())
    }

    /// A checkpoint stored in the database, checked against `key` if given.
    fn stored(&mut self, label: String, text: &str, key: Option<&AuditPublicKey>) {
        let signed = match SignedCheckpoint::parse(text) {
            Ok(signed) => signed,
            Err(error) => {
                self.faults
                    .push(format!("{label} in the database does not parse: {error}"));
                return;
            }
        };
        match key.map(|k| signed.verify(k)) {
            Some(Ok(())) | None => {}
            // Signed by another key (one used before a rotation, say): it
            // vouches for nothing here, and the file is the real anchor.
            Some(Err(CheckpointError::OtherKey { signed_by, .. })) => {
                self.notes.push(format!(
                    "{label} is signed by key {signed_by}, not the key given: not checked"
                ));
                return;
            }
            Some(Err(error)) => {
                self.faults
                    .push(format!("{label} in the database is not valid: {error}"));
                return;
            }
        }
        self.anchors.push(Anchor {
            label,
            checkpoint: signed.checkpoint,
        });
    }
}

/// Verifies the whole chain page by page, showing every record to `check`;
/// the last record read and the first fault, if any.
async fn walk_chain(
    store: &SqlStore,
    check: &mut AnchorCheck,
    verifier: &mut ChainVerifier,
) -> Result<(i64, Option<ChainFault>)> {
    let bar = progress::bar(0, "verifying");
    let mut after = 0;
    let mut chain_fault: Option<ChainFault> = None;
    'pages: loop {
        let page = store.audit_page(after, AUDIT_VERIFY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for record in &page {
            if let Err(fault) = verifier.check(record) {
                chain_fault = Some(fault);
                break 'pages;
            }
            check.observe(record);
            after = record.entry.seq;
        }
        bar.inc(page.len() as u64);
    }
    bar.finish_and_clear();
    Ok((after, chain_fault))
}

fn read_checkpoint_file(path: &Path) -> Result<SignedCheckpoint> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the checkpoint {}", path.display()))?;
    let mut text = String::new();
    file.take(CHECKPOINT_TEXT_BYTES_MAX as u64 + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the checkpoint {}", path.display()))?;
    SignedCheckpoint::parse(&text).with_context(|| format!("the checkpoint {}", path.display()))
}

/// The server's checkpoint writer and the switch that stops it.
pub struct CheckpointTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl CheckpointTask {
    /// Stops the task; it signs a last checkpoint when the log grew.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(StdDuration::from_secs(30), self.task).await;
    }
}

/// Starts the checkpoint writer when a signing key is configured. A key
/// that cannot be read stops `serve` from starting.
pub fn start_checkpoints(config: &Config, store: Arc<SqlStore>) -> Result<Option<CheckpointTask>> {
    let Some(key) = configured_key(config)? else {
        return Ok(None);
    };
    let every_records = i64::try_from(config.audit.checkpoint_every_records).unwrap_or(i64::MAX);
    let every = StdDuration::from_secs(config.audit.checkpoint_every_seconds);
    tracing::info!(
        key_id = key.public_key().key_id(),
        every_records,
        every_seconds = every.as_secs(),
        "signing audit checkpoints"
    );
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(checkpoint_loop(store, key, every_records, every, stopped));
    Ok(Some(CheckpointTask { stop, task }))
}

async fn checkpoint_loop(
    store: Arc<SqlStore>,
    key: AuditSigningKey,
    every_records: i64,
    every: StdDuration,
    mut stopped: watch::Receiver<bool>,
) {
    let public = key.public_key();
    let mut signed_up_to = match newest_own_checkpoint(&store, &public).await {
        Ok(found) => found.map_or(0, |(_, c)| c.seq),
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "cannot read the stored audit checkpoints");
            0
        }
    };
    let mut last_attempt = tokio::time::Instant::now();
    let mut failed = false;
    loop {
        let stopping = tokio::select! {
            () = tokio::time::sleep(HEAD_POLL) => false,
            _ = stopped.changed() => true,
        };
        let head = match store.audit_head().await {
            Ok(head) => head.map_or(0, |r| r.entry.seq),
            Err(error) => {
                tracing::warn!(%error, "cannot read the audit log's head");
                if stopping {
                    return;
                }
                continue;
            }
        };
        let grown = head - signed_up_to;
        let waited = last_attempt.elapsed() >= every;
        // After a failure, the next attempt waits for `every`.
        let due = if failed {
            grown > 0 && waited
        } else {
            grown >= every_records || (grown > 0 && (stopping || waited))
        };
        if due {
            last_attempt = tokio::time::Instant::now();
            match sign_head(&store, &key, Utc::now()).await {
                Ok((id, signed)) => {
                    signed_up_to = signed.checkpoint.seq;
                    failed = false;
                    tracing::info!(id, seq = signed_up_to, "signed an audit checkpoint");
                }
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "cannot sign an audit checkpoint");
                    failed = true;
                }
            }
        }
        if stopping {
            return;
        }
    }
}
