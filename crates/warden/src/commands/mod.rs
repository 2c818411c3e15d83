//! The commands: each opens what it needs, does its work, and reports.

mod admin;
mod audit;
mod audit_sealer;
mod bench;
mod classifier;
mod demo;
mod demo_escalations;
mod demo_incidents;
mod demo_kpis;
mod demo_quality;
mod export;
mod incident;
mod quality;
mod report;
mod report_kpis;
mod retrain;
mod rules;
mod stats;
mod workers;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};

use warden_app::App;
use warden_server::{AppState, ServerSettings};
use warden_store::prelude::*;
use warden_store::{SqlStore, SqliteOptions};

use crate::cli::{Cli, Command, StoreArgs};
use crate::config::Config;

/// Stores the running command opened, closed when it ends: closing a
/// PostgreSQL store seals the audit records the command wrote.
static OPENED: Mutex<Vec<Arc<SqlStore>>> = Mutex::new(Vec::new());

/// Runs the command the user typed, then closes the stores it opened.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let outcome = run_command(cli).await;
    let opened = std::mem::take(&mut *OPENED.lock().unwrap_or_else(PoisonError::into_inner));
    for store in opened {
        store.close().await;
    }
    outcome
}

async fn run_command(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve {
            store: store_args,
            listen,
        } => {
            init_logging(&config);
            let store = open_store(&config, &store_args).await?;
            let settings = config.server_settings(false);
            let data_dir = data_dir(&config, &store_args);
            serve(&config, store, settings, listen, &data_dir).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            store,
            listen,
            accounts,
            load_only,
        } => demo_command(&config, store, listen, accounts, load_only).await,
        Command::Migrate { store } => {
            let opened = open_store(&config, &store).await?;
            println!("migrated the {} database", opened.backend().as_str());
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => admin::user(&config, command).await,
        Command::Token { command } => admin::token(&config, command).await,
        Command::Audit { command } => audit::run(&config, command).await,
        Command::Rules { command } => rules::run(&config, command).await,
        Command::Bench { name, data, .. } if name == "classifier" => {
            bench::classifier::run(data.as_deref())
        }
        Command::Bench {
            name,
            store,
            items,
            features,
            load,
            ..
        } => bench::run(&config, &name, &store, items, features, &load).await,
        Command::Classifier { command } => classifier::run(&config, command).await,
        Command::Export { command } => export::export(&config, command).await,
        Command::Submit { command } => export::submit(&config, command).await,
        Command::Report { command } => report::report(&config, command).await,
        Command::Stats { command } => stats::run(command),
        Command::Incident { command } => incident::run(&config, command).await,
    }
}

/// `warden demo`: loads the demo platform (and trains its classifier), then
/// serves it unless `load_only`.
async fn demo_command(
    config: &Config,
    store: StoreArgs,
    listen: Option<String>,
    accounts: usize,
    load_only: bool,
) -> Result<ExitCode> {
    init_logging(config);
    let mut store_args = store;
    if store_args.data_dir.is_none() && store_args.database_url.is_none() {
        store_args.data_dir = Some(PathBuf::from("warden-demo"));
    }
    let store = open_store(config, &store_args).await?;
    let policy = config.case_policy()?;
    let data_dir = data_dir(config, &store_args);
    if let Some(detection) = config.detection_settings(&data_dir) {
        demo::write_starter_rules(detection.rules_dir.as_deref())?;
    }
    let summary = demo::load(store.as_ref(), &policy, accounts).await?;
    let (config, trained) = demo::classifier(config, store.clone(), &policy).await?;
    if load_only {
        summary.print(None);
        println!("{trained}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{trained}");
    let settings = config.server_settings(true);
    let listen = listen.unwrap_or_else(|| config.server.listen.clone());
    let listener = bind(&listen).await?;
    summary.print(Some(&format!("http://{}", listener.local_addr()?)));
    serve_on(&config, store, settings, listener, &data_dir).await?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if config.server.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Opens the store the arguments and configuration name, migrating it.
pub async fn open_store(config: &Config, args: &StoreArgs) -> Result<Arc<SqlStore>> {
    let url = args
        .database_url
        .clone()
        .filter(|u| !u.is_empty())
        .or_else(|| Some(config.storage.database_url.clone()).filter(|u| !u.is_empty()));
    let store = match url {
        Some(url) => SqlStore::open_url(&url, config.storage.postgres_connections)
            .await
            .context("cannot open the database named by --database-url / WARDEN_DATABASE_URL; check that the server runs and the URL is right")?,
        None => {
            let dir = args.data_dir.clone().unwrap_or_else(|| config.storage.data_dir.clone());
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            let path = dir.join("warden.db");
            SqlStore::open_sqlite(&path, SqliteOptions::default())
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?
        }
    };
    let store = Arc::new(store);
    OPENED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(store.clone());
    Ok(store)
}

async fn bind(listen: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {listen}; is another server using it? pick another with --listen"
            )
        })
}

async fn serve(
    config: &Config,
    store: Arc<SqlStore>,
    settings: ServerSettings,
    listen: Option<String>,
    data_dir: &std::path::Path,
) -> Result<()> {
    let listen = listen.unwrap_or_else(|| config.server.listen.clone());
    let listener = bind(&listen).await?;
    println!("Warden listening on http://{}", listener.local_addr()?);
    serve_on(config, store, settings, listener, data_dir).await
}

/// The data directory the store arguments and configuration name.
fn data_dir(config: &Config, args: &StoreArgs) -> PathBuf {
    args.data_dir
        .clone()
        .unwrap_or_else(|| config.storage.data_dir.clone())
}

async fn serve_on(
    config: &Config,
    store: Arc<SqlStore>,
    settings: ServerSettings,
    listener: tokio::net::TcpListener,
    data_dir: &std::path::Path,
) -> Result<()> {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    serve_until(
        config,
        store,
        settings,
        listener,
        data_dir,
        shutdown_signal(),
    )
    .await
}

/// The application `serve` runs: the configured queues, and the newest
/// taxonomy version in force, made sure to hold every category the
/// configuration names (publishing a version when it adds some).
pub async fn application(
    config: &Config,
    store: Arc<SqlStore>,
    settings: &ServerSettings,
) -> Result<App> {
    let app = App::new(store, config.case_policy()?, settings.app_settings())
        .with_classifier_priority(config.classifier.priority());
    let version = app
        .publish_configured_categories()
        .await
        .map_err(|e| anyhow::anyhow!(e.chain()))
        .context("cannot prepare the taxonomy version")?;
    tracing::info!(version = version.version, "taxonomy version in force");
    Ok(app)
}

/// Serves on `listener` with everything `serve` runs beside the API (the
/// detection worker, the outbox worker, the audit sealer and checkpoint
/// writer, the classifier retrain, QA sampling and DSA submission) until
/// `shutdown` completes; benchmarks run the real server this way.
pub(crate) async fn serve_until(
    config: &Config,
    store: Arc<SqlStore>,
    settings: ServerSettings,
    listener: tokio::net::TcpListener,
    data_dir: &std::path::Path,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    // The application with the taxonomy version in force, following the
    // versions other servers publish; then the workers (workers.rs).
    let app = application(config, store.clone(), &settings).await?;
    let follower = app.follow_published_policy(config.policy_poll_interval()?);
    let state =
        AppState::with_app(app, settings).with_enforcement(config.delivery.server_settings());
    let sealer = audit_sealer::start_sealer(store.clone());
    let checkpoints = audit::start_checkpoints(config, store.clone())?;
    let (workers, state) = workers::Workers::start(config, store.clone(), state, data_dir).await?;
    tracing::info!(address = %listener.local_addr()?, backend = store.backend().as_str(), "serving");
    warden_server::serve(listener, state, shutdown)
        .await
        .context("the server stopped")?;
    follower.abort();
    workers.stop().await;
    if let Some(checkpoints) = checkpoints {
        checkpoints.stop().await;
    }
    if let Some(sealer) = sealer {
        sealer.stop().await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
