//! The command line, as the user types it. Checking and opening things
//! happens in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Warden: Trust & Safety operations — intake, cases and queues, decisions, audit.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file (default: ./warden.toml when it exists).
    #[arg(long, global = true, env = "WARDEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the store is: a SQLite file under a data directory, or PostgreSQL.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite database (default: ./warden-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// A postgres:// URL; without it Warden uses SQLite under the data directory.
    #[arg(
        long,
        env = "WARDEN_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (SQLite by default, PostgreSQL with --database-url).
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "HOST:PORT")]
        listen: Option<String>,
    },
    /// Serve with a demo platform loaded: accounts, content, reports, cases, users.
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "HOST:PORT")]
        listen: Option<String>,
        /// Accounts to generate.
        #[arg(long, default_value_t = 3000)]
        accounts: usize,
        /// Load the data and exit instead of serving.
        #[arg(long)]
        load_only: bool,
    },
    /// Apply database migrations and exit (serve does this too).
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Work with detection rules (the AbuseFilter rule language).
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Run a named benchmark; the last line is `NAME: VALUE UNIT`.
    Bench {
        /// Which benchmark: ingest, claim, rules, case-page, deliveries, kpis.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Items to use.
        #[arg(long)]
        items: Option<usize>,
    },
    /// Export data: DSA statements of reasons as JSON Lines.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Submit data to outside registries: DSA statements of reasons.
    Submit {
        #[command(subcommand)]
        command: SubmitCommand,
    },
    /// Reports: transparency-report aggregates.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

/// `warden user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// Login name.
        name: String,
        /// associate, analyst, lead, qa, policy, admin or auditor.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a user's password, read from standard input; ends their sessions and lifts a lockout.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable a user: ends their sessions and gives their cases back.
    Disable {
        /// Login name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled user.
    Enable {
        /// Login name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `warden token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; prints it alone on standard output (it is shown only once).
    Create {
        /// Whose token.
        #[arg(long)]
        user: String,
        /// ingest, read, review or admin.
        #[arg(long)]
        scope: String,
        /// A name to tell tokens apart.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id (see `warden token list`).
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `warden audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero naming the first bad record.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `warden rules ...`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Evaluate one rule expression with no event and print its value; on a
    /// bad rule print the error kind and position and exit non-zero.
    Eval {
        /// The expression, or `-` to read it from standard input.
        expression: String,
    },
    /// Check rule files (or directories of them): every rule and list,
    /// with the error kind and position of each problem; non-zero on any.
    Check {
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run sample events through rule files and compare the rules that hit
    /// with the expected ones; non-zero on any difference.
    Test {
        /// A rule file or directory.
        path: PathBuf,
        /// JSON Lines: {"name": ..., "event": {...}, "expect": ["rule-id", ...]}.
        #[arg(long, value_name = "CASES.jsonl")]
        cases: PathBuf,
    },
    /// Replay stored events through the rules and report, per rule, hits and
    /// precision and recall against analysts' decisions.
    Backtest {
        /// How far back: 30m, 12h, 7d (at most 90d).
        #[arg(long, default_value = "7d")]
        since: String,
        /// Only this rule.
        #[arg(long)]
        rule: Option<String>,
        /// Rule files or directory (default: the configured rules directory).
        #[arg(long, value_name = "PATH")]
        rules: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `warden export ...`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the statements of reasons written in [--since, --until) as JSON
    /// Lines, one statement per line in the Transparency Database format.
    Dsa {
        /// Start (inclusive): RFC 3339 or YYYY-MM-DD (UTC).
        #[arg(long)]
        since: String,
        /// End (exclusive): RFC 3339 or YYYY-MM-DD (UTC).
        #[arg(long)]
        until: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `warden submit ...`.
#[derive(Debug, Subcommand)]
pub enum SubmitCommand {
    /// Send the statements of reasons not yet accepted to the Transparency
    /// Database, in batches of at most 100, with the token in
    /// WARDEN_DSA_TOKEN; records which were accepted (a puid is never sent
    /// again once accepted).
    Dsa {
        /// The API host (default: [dsa] endpoint).
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// Statements per batch, 1 to 100.
        #[arg(long)]
        batch_size: Option<usize>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `warden report ...`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Transparency-report aggregates of [--from, --to): actions by
    /// category, source of detection and automation, median time from notice
    /// to action, appeals and reversals.
    Transparency {
        /// Start (inclusive): RFC 3339 or YYYY-MM-DD (UTC).
        #[arg(long)]
        from: String,
        /// End (exclusive): RFC 3339 or YYYY-MM-DD (UTC).
        #[arg(long)]
        to: String,
        /// json or csv.
        #[arg(long, default_value = "json")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}
