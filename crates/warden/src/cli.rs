//! The command line, as the user types it. Checking and opening things
//! happens in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use warden_store::DatabaseUrl;

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
    pub database_url: Option<DatabaseUrl>,
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
    /// Run a named benchmark; the last line is `NAME: VALUE UNIT`. Store
    /// benchmarks use a scratch SQLite database, or with --database-url a
    /// schema they create and drop in that PostgreSQL database.
    Bench {
        /// Which benchmark: ingest, claim, rules, case-page, deliveries, bulk, agreement, classifier, kpis.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Items to use (ingest: events, default 20,000; bulk: cases, default 20,000).
        #[arg(long)]
        items: Option<usize>,
        /// `rules` only: also run the reference pack rewritten with features and
        /// compare the two.
        #[arg(long)]
        features: bool,
        #[command(flatten)]
        load: BenchArgs,
        /// The labelled corpora (`bench classifier`; default ../shared/data).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Triage classifiers: train on labelled texts, evaluate, list and
    /// promote versions kept in the store.
    Classifier {
        #[command(subcommand)]
        command: ClassifierCommand,
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
    /// Statistics over a team's own exports: agreement between raters.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Incidents: follow a bulk action's progress.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
}

/// `warden incident ...`.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// A bulk action's progress: a bar on a terminal until it is no longer
    /// being applied; one JSON object when piped.
    BulkStatus {
        /// The bulk action's id.
        id: i64,
        /// Print the progress once and return, even on a terminal.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The shape of the load of `warden bench claim` and `warden bench ingest`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// claim: open cases loaded through HTTP intake before claiming.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub cases: usize,
    /// claim: analysts claiming and deciding at once, each with its own token.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub claimers: usize,
    /// claim: stop after this many decisions in all ...
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub decisions: usize,
    /// claim: ... or after this many seconds of claiming.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub seconds: u64,
    /// claim: run ANALYZE after the load (PostgreSQL only). The figure the
    /// issue asks for is without: right after a bulk load, as in production.
    #[arg(long)]
    pub analyze: bool,
    /// ingest, claim: HTTP clients sending NDJSON batches at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub clients: usize,
    /// ingest, claim: items per NDJSON batch.
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub batch: usize,
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
        /// A team the user is in (repeat for several): restricted queues
        /// admit by team, e.g. `--team child_safety`.
        #[arg(long = "team", value_name = "TEAM")]
        teams: Vec<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show a user's teams, or set them with `--set a,b` (`--set ""` for none).
    Teams {
        /// Login name.
        name: String,
        /// The teams from now on, comma-separated (replacing the ones the user had).
        #[arg(long, value_name = "TEAMS")]
        set: Option<String>,
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
    /// Also holds the log against signed checkpoints: the stored ones, and
    /// with --checkpoint a copy kept outside the database, so that removed
    /// newest records show ("the log ends at 1,203 but ... signed 1,213").
    Verify {
        /// A checkpoint file (from `warden audit checkpoint --out`) to hold
        /// the log against; its signature must be by the public key.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// The public key that signs checkpoints (printed by `warden audit
        /// keygen`); default: the configured signing key's.
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make an Ed25519 key that signs audit checkpoints: writes the private
    /// key file (mode 0600, never overwriting) and prints the public key
    /// alone on standard output.
    Keygen {
        /// The private key file (default: [audit] signing_key_file).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Sign a checkpoint of the log's newest record with the configured key
    /// ([audit] signing_key_file), store it, and print it (or write FILE).
    /// The records since the last checkpoint are verified first.
    Checkpoint {
        /// Write the checkpoint here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the stored checkpoints, newest first.
    Checkpoints {
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
    /// Every KPI of specs/kpis.md over [--from, --to), filtered and grouped
    /// (formulas in docs/metrics.md).
    Kpis(KpisArgs),
}

/// `warden report kpis`.
#[derive(Debug, clap::Args)]
pub struct KpisArgs {
    /// Start (inclusive): RFC 3339 or YYYY-MM-DD (UTC).
    #[arg(long)]
    pub from: String,
    /// End (exclusive): RFC 3339 or YYYY-MM-DD (UTC).
    #[arg(long)]
    pub to: String,
    /// Only this queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// Only facts attributed to this reviewer (user name).
    #[arg(long)]
    pub reviewer: Option<String>,
    /// Only this category.
    #[arg(long)]
    pub category: Option<String>,
    /// Only members of this team.
    #[arg(long)]
    pub team: Option<String>,
    /// Groups: day, week, reviewer, queue, category or rule.
    #[arg(long)]
    pub by: Option<String>,
    /// json, csv or table.
    #[arg(long, default_value = "json")]
    pub format: String,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `warden stats ...`.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Agreement between raters who labelled the same items independently
    /// (a calibration export): percent agreement, Fleiss' kappa,
    /// Krippendorff's alpha, Cohen's kappa for every pair, each rater's
    /// agreement with the consensus and the most disputed items.
    #[command(after_long_help = STATS_AGREEMENT_HELP)]
    Agreement {
        /// A CSV file of ratings, or `-` to read standard input.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// json (the calibration contract's fields) or table (aligned
        /// columns for people).
        #[arg(long, value_enum, default_value_t = StatsFormat::Json)]
        format: StatsFormat,
    },
}

/// How `warden stats` prints its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// One JSON object.
    Json,
    /// Aligned columns for people.
    Table,
}

/// The long help of `warden stats agreement`: input, statistics, examples.
pub const STATS_AGREEMENT_HELP: &str = "\
Input:
  The first line is the header, exactly `item,rater,label`; then one rating
  per line, e.g. `case-17,anna,spam`. A rater may skip items; a rater who
  rates one item twice is an error naming both lines. Fields may be quoted
  (\"Hate, targeted\"); spaces around fields are trimmed; blank lines are
  skipped. Item and rater ids are at most 256 bytes, labels 128, with no
  control characters; at most 1,000,000 ratings, 200 raters and 1,000
  labels. Any error names the line (and the column) and prints nothing else.

Statistics (exact to the textbook definitions):
  percent_agreement           Fleiss' mean per-item agreement P̄, over items
                              with two or more ratings
  fleiss_kappa                Fleiss (1971); needs every item rated by the
                              same number of raters, else null
  krippendorff_alpha_nominal  Krippendorff (2011), nominal; handles skipped
                              ratings
  cohen_kappa                 Cohen (1960), when there are exactly two raters;
                              `pairs` has it for every pair over the items
                              both rated (`n`)
  raters_vs_consensus         each rater's share of ratings equal to the
                              plurality label, over items with two or more
                              ratings and no tie for the most votes
  most_disputed               up to 10 items with the lowest per-item
                              agreement, with their label counts
  A statistic the data cannot define (one rater, one label, no shared items)
  is null, and `undefined` says why.

Output:
  --format json prints one object with the fields above (`pairs`: a, b,
  cohen_kappa, n, agreement; `raters_vs_consensus`: rater, agreement, n,
  ratings; `most_disputed`: item, labels {label: count}, agreement, ratings)
  and `items_without_consensus`. --format table prints the same as aligned
  columns, to three decimals. While a file over 16 MiB is read a progress
  bar shows on standard error if that is a terminal (never in a pipe or a
  log). The exit status is non-zero on any error.

Examples:
  warden stats agreement calibration.csv --format table
  my-export | warden stats agreement - | jq .fleiss_kappa";

/// Where the documents of a JSON Lines file are: one object a line.
#[derive(Debug, Clone, Args)]
pub struct DocumentFields {
    /// The field holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// The field holding the class label.
    #[arg(long, default_value = "label")]
    pub label_field: String,
    /// The field holding a stable id (it decides the train/test split);
    /// documents without one are split by a hash of their text.
    #[arg(long, default_value = "id")]
    pub id_field: String,
}

/// `warden classifier ...`.
#[derive(Debug, Subcommand)]
pub enum ClassifierCommand {
    /// Train a model on labelled JSON Lines (gzipped or not), measure it on
    /// a held-out slice, and save it as the model's next version: in shadow,
    /// or live with --live when it beats the live version on that slice.
    Train(TrainArgs),
    /// Score labelled JSON Lines with a stored version and print n,
    /// precision, recall, F1, ROC AUC and throughput (the model's positive
    /// class is positive).
    #[command(disable_version_flag = true)]
    Eval(EvalArgs),
    /// List model versions, newest first.
    List {
        /// Only this model.
        #[arg(long)]
        name: Option<String>,
        /// json or table.
        #[arg(long, default_value = "table")]
        format: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make a version live (the live one is retired).
    #[command(disable_version_flag = true)]
    Promote {
        /// The model's name.
        #[arg(long)]
        name: String,
        /// The version.
        #[arg(long)]
        version: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The flags of `warden classifier train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The model's name, as rules read it (`classifier_score("NAME")`).
    #[arg(long)]
    pub name: String,
    /// Labelled documents: FILE.jsonl or FILE.jsonl.gz.
    #[arg(
        long,
        value_name = "FILE.jsonl[.gz]",
        required_unless_present = "from_decisions"
    )]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub fields: DocumentFields,
    /// The label of the positive class (what a high score flags); every
    /// other label is negative.
    #[arg(long, default_value = "spam")]
    pub positive: String,
    /// Learn from analysts' decisions instead of a file: a violation of
    /// --category is positive, any other decision negative, over the
    /// text each decision judged (the subject's, else the newest event's
    /// about it). The new version is saved in shadow only if it beats
    /// the live and shadow versions on the held-out slice.
    #[arg(long, requires = "category", conflicts_with_all = ["data", "live"])]
    pub from_decisions: bool,
    /// With --from-decisions: the category (taxonomy code) to learn.
    #[arg(long, value_name = "CODE", requires = "from_decisions")]
    pub category: Option<String>,
    /// With --from-decisions: only decisions made at or after this time
    /// (RFC 3339, or a date such as 2026-11-01).
    #[arg(long, value_name = "TIME", requires = "from_decisions")]
    pub since: Option<String>,
    /// lr (logistic regression) or svm (linear SVM, Platt-calibrated).
    #[arg(long, default_value = "svm")]
    pub model: String,
    /// Seeds the validation split and the solver's order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The share of documents held out for measuring, by id hash (0 to 0.9).
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Regularisation C (default: the model's tuned default).
    #[arg(long, value_name = "C")]
    pub regularisation: Option<f64>,
    /// The feature space: 2^BITS hashed buckets, 18 to 20.
    #[arg(long, value_name = "BITS")]
    pub hash_bits: Option<u8>,
    /// equal or balanced: how much each class counts in training.
    #[arg(long, default_value = "equal")]
    pub class_weight: String,
    /// Publish live if it beats the live version on the held-out slice;
    /// otherwise it stays in shadow.
    #[arg(long)]
    pub live: bool,
    /// With --live: publish live even if it does not beat the live version.
    #[arg(long, requires = "live")]
    pub force: bool,
    /// Why this version exists.
    #[arg(long, default_value = "")]
    pub note: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The flags of `warden classifier eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model's name.
    #[arg(long)]
    pub name: String,
    /// Labelled documents: FILE.jsonl or FILE.jsonl.gz.
    #[arg(long, value_name = "FILE.jsonl[.gz]")]
    pub data: PathBuf,
    #[command(flatten)]
    pub fields: DocumentFields,
    /// This version (default: the live one).
    #[arg(long, conflicts_with = "shadow")]
    pub version: Option<i64>,
    /// The shadow version.
    #[arg(long)]
    pub shadow: bool,
    /// Score only the held-out slice at this share (as `train --holdout`).
    #[arg(long)]
    pub holdout: Option<f64>,
    /// json or table.
    #[arg(long, default_value = "table")]
    pub format: String,
    #[command(flatten)]
    pub store: StoreArgs,
}
