//! `warden demo`: a synthetic but plausible platform.
//!
//! A small social marketplace: accounts, posts, messages, listings and
//! payments over the last weeks, a few spam rings and scammers among them,
//! user reports and automated flags over the last days in every queue, some
//! already decided by the demo analysts, some past their SLA. Generated from
//! a fixed seed, so every demo shows the same platform. Loading goes through
//! the store like any intake, with times set in the past.

use anyhow::Result;
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use warden_domain::access::{Role, Scope};
use warden_domain::appeal::NewAppeal;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::ids::{DecisionId, LanguageTag};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{MediaItem, NewEvent, NewReport, NewSignal, NewSubject, ReportSource};
use warden_domain::{SubjectRef, Timestamp};
use warden_server::auth::{hash_password, new_token, secret_hash};
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy, SqlStore};

use crate::progress;

/// The password of every demo user; refused outside demo mode (too short).
const DEMO_PASSWORD: &str = "demo";

/// Items stored per intake call while loading.
const LOAD_BATCH: usize = 1_000;

/// What the demo loaded, to print.
pub struct DemoSummary {
    loaded_now: bool,
    subjects: i64,
    reports: i64,
    cases: i64,
    ingest_token: String,
}

impl DemoSummary {
    /// Prints where to go and how to sign in.
    pub fn print(&self, url: Option<&str>) {
        let what = if self.loaded_now { "Loaded" } else { "Reusing" };
        println!(
            "{what} the demo platform: {} subjects, {} reports, {} cases.",
            self.subjects, self.reports, self.cases
        );
        if let Some(url) = url {
            println!();
            println!("Warden demo listening on {url}");
            println!("  API document: {url}/api/openapi.json");
        }
        println!();
        println!("Demo users (password `{DEMO_PASSWORD}`, accepted in demo mode only):");
        println!("  associate, analyst, lead, qa, policy, admin, auditor");
        println!();
        println!("Ingest token (admin, scope ingest):");
        println!("  {}", self.ingest_token);
        if let Some(url) = url {
            println!();
            println!("Try:");
            println!(
                "  curl -s -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\",
                self.ingest_token
            );
            println!("    -d '{{\"id\":\"rep_try_1\",\"subject\":{{\"kind\":\"content\",\"id\":\"post_1\"}},\"reason\":\"spam\",\"source\":\"user_report\"}}' \\");
            println!("    {url}/api/v1/reports");
            println!();
            println!("Press Ctrl-C to stop.");
        }
    }
}

const COUNTRIES: &[&str] = &[
    "US", "GB", "DE", "FR", "BR", "IN", "NG", "PH", "ES", "PL", "NL", "MX",
];
const LANGUAGES: &[&str] = &["en", "en", "en", "de", "fr", "pt", "es", "pl", "nl"];
const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloe", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kemi", "Lars",
    "Mila", "Nico", "Oona", "Priya", "Quinn", "Rosa", "Sami", "Tariq",
];
const LAST: &[&str] = &[
    "Okafor", "Schmidt", "Silva", "Nowak", "Dubois", "Garcia", "Khan", "Larsen", "Moreau",
    "Tanaka", "Ivanova", "Murphy",
];

const ORDINARY_POSTS: &[&str] = &[
    "Finally finished restoring the old bike, pictures soon",
    "Anyone know a good place for ramen near the station?",
    "Our team won the Sunday league match 3-1!",
    "Selling my old textbooks, message me if interested",
    "The sunset from the pier tonight was unreal",
    "Does anyone have tips for growing tomatoes on a balcony?",
    "Three weeks into learning Rust and the borrow checker finally clicked",
    "Happy birthday to my little sister, 18 today",
    "Lost a grey cat around Elm Street, answers to Mochi",
    "Recommendations for a sci-fi book? Just finished Dune",
];

const AFTERTHOUGHTS: &[&str] = &[
    "What do you think?",
    "Photos in the comments.",
    "Thanks everyone!",
    "More on the weekend.",
    "Long day, good day.",
    "Ask me anything about it.",
    "Can't believe it took this long.",
    "Next time I'll bring snacks.",
];

const SPAM_POSTS: &[&str] = &[
    "GET 10K FOLLOWERS FAST!!! cheap and real at {domain} limited offer",
    "Make $500/day from home, no experience needed, click {domain}",
    "Hot singles in your area want to meet you -> {domain}",
    "Best replica watches 90% off only today {domain}",
];

const SCAM_MESSAGES: &[&str] = &[
    "Congratulations! You have been selected for our bitcoin giveaway. Send 0.1 BTC to receive 1 BTC back: {domain}",
    "Dear friend, I am a prince with $4.5M inheritance and need your help to transfer the funds, kindly reply with your bank details",
    "Your account will be suspended. Verify your password now at {domain} to avoid losing access",
    "Hi, I sent you money by mistake, please send it back through this link {domain}",
];

const HARASSMENT: &[&str] = &[
    "nobody wants you here, delete your account",
    "you are pathetic and everyone laughs at you",
    "I know where you live, watch your back",
];

const ORDINARY_MESSAGES: &[&str] = &[
    "Is the bike still available?",
    "Thanks for the quick delivery!",
    "See you at practice on Thursday",
    "Can you send me the notes from today?",
];

const LISTINGS: &[&str] = &[
    "Vintage road bike, 56cm frame, good condition",
    "Handmade ceramic mugs, set of four",
    "iPhone 13, 128GB, small scratch on the back",
    "Original Rolex Submariner, brand new, 200 EUR only",
    "Designer handbag, authentic, 95% off retail",
    "Kids' bicycle with training wheels",
];

const SPAM_DOMAINS: &[&str] = &[
    "free-followers.example",
    "cash-daily.example",
    "btc-double.example",
    "secure-login-verify.example",
    "replica-deals.example",
];

struct Generated {
    subjects: Vec<NewSubject>,
    events: Vec<NewEvent>,
    /// Reports with the time they arrive.
    reports: Vec<(Timestamp, NewReport)>,
    signals: Vec<(Timestamp, NewSignal)>,
}

fn reference(kind: SubjectKind, id: &str) -> SubjectRef {
    // cannot fail: the demo's ids are literals in the id alphabet.
    SubjectRef::new(kind, PlatformId::parse(id).expect("demo ids are valid"))
}

fn platform_id(id: &str) -> PlatformId {
    // cannot fail: the demo's ids are literals in the id alphabet.
    PlatformId::parse(id).expect("demo ids are valid")
}

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

fn fill(template: &str, rng: &mut StdRng) -> String {
    let link = format!(
        "https://{}/{}",
        pick(rng, SPAM_DOMAINS),
        rng.gen_range(100..999)
    );
    template.replace("{domain}", &link)
}

/// One report as the demo files it; the reporter and language are drawn
/// when it is filed.
struct ReportDraft<'a> {
    at: Timestamp,
    subject: SubjectRef,
    reason: &'a str,
    source: ReportSource,
    text: &'a str,
}

/// An item a demo account publishes: its subject and the event that
/// created it, from the owner's device and IP.
struct Published {
    subject: SubjectRef,
    owner: usize,
    at: Timestamp,
    text: Option<String>,
    media: Vec<MediaItem>,
    attributes: serde_json::Value,
    event_id: String,
    event_type: &'static str,
    data: serde_json::Value,
}

/// The platform being generated. One seeded generator draws everything in a
/// fixed order, so every demo shows the same platform: keep the order of the
/// draws when changing this.
struct Platform {
    rng: StdRng,
    now: Timestamp,
    accounts: usize,
    report_seq: usize,
    /// The throwaway accounts, which post spam.
    bad_accounts: Vec<usize>,
    /// Each account's device and IP, for its later events.
    networks: Vec<(String, String)>,
    out: Generated,
}

fn generate(accounts: usize, now: Timestamp) -> Generated {
    let mut platform = Platform {
        rng: StdRng::seed_from_u64(0x5741_5244_454e),
        now,
        accounts,
        report_seq: 0,
        bad_accounts: Vec::new(),
        networks: Vec::with_capacity(accounts),
        out: Generated {
            subjects: Vec::new(),
            events: Vec::new(),
            reports: Vec::new(),
            signals: Vec::new(),
        },
    };
    for n in 0..accounts {
        platform.account(n);
    }
    for n in 0..accounts * 2 {
        platform.post(n);
    }
    platform.burst();
    for n in 0..accounts {
        platform.message(n);
    }
    for n in 0..accounts / 5 {
        platform.listing(n);
    }
    for n in 0..accounts / 3 {
        platform.payment(n);
    }
    for n in 0..12 {
        platform.severe_report(n);
    }
    let mut out = platform.out;
    out.reports.sort_by_key(|(at, _)| *at);
    out.signals.sort_by_key(|(at, _)| *at);
    out
}

impl ReportDraft<'_> {
    fn file(self, seq: usize, rng: &mut StdRng, reporters: usize) -> (Timestamp, NewReport) {
        let reporter = reference(
            SubjectKind::Account,
            &format!("acct_{}", rng.gen_range(0..reporters)),
        );
        let report = NewReport {
            id: platform_id(&format!("rep_{seq}")),
            subject: self.subject,
            reason: self.reason.into(),
            source: self.source,
            reporter: (self.source == ReportSource::UserReport).then_some(reporter),
            text: Some(self.text.to_string()),
            language: Some(pick(rng, LANGUAGES).to_string()),
            created_at: Some(self.at),
        };
        (self.at, report)
    }
}

impl Platform {
    /// Files a report, drawing from the platform's generator.
    fn report(&mut self, draft: ReportDraft<'_>) {
        self.report_seq += 1;
        let report = draft.file(self.report_seq, &mut self.rng, self.accounts);
        self.out.reports.push(report);
    }

    /// Files a report drawing from its own generator, so that adding it
    /// leaves the rest of the platform as it was.
    fn report_seeded(
        &mut self,
        seed: u64,
        draft: impl FnOnce(&mut StdRng) -> ReportDraft<'static>,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let draft = draft(&mut rng);
        self.report_seq += 1;
        let report = draft.file(self.report_seq, &mut rng, self.accounts);
        self.out.reports.push(report);
    }

    fn publish(&mut self, item: Published) {
        let owner = reference(SubjectKind::Account, &format!("acct_{}", item.owner));
        let (device, ip) = self.networks[item.owner].clone();
        self.out.subjects.push(NewSubject {
            subject: item.subject.clone(),
            created_at: Some(item.at),
            owner: Some(owner.clone()),
            text: item.text,
            media: item.media,
            attributes: item.attributes,
        });
        self.out.events.push(NewEvent {
            id: platform_id(&item.event_id),
            event_type: item.event_type.into(),
            occurred_at: item.at,
            actor: Some(owner),
            subject: Some(item.subject),
            ip: Some(ip),
            device_id: Some(device),
            data: item.data,
        });
    }

    /// An account: most are old and ordinary; a few percent are fresh
    /// throwaways on a few shared devices and addresses.
    fn account(&mut self, n: usize) {
        let rng = &mut self.rng;
        let id = format!("acct_{n}");
        let throwaway = rng.gen_bool(0.04);
        let age_days = if throwaway {
            rng.gen_range(0..3)
        } else {
            rng.gen_range(30..900)
        };
        let created =
            self.now - Duration::days(age_days) - Duration::minutes(rng.gen_range(0..1440));
        if throwaway {
            self.bad_accounts.push(n);
        }
        let name = format!("{} {}", pick(rng, FIRST), pick(rng, LAST));
        let device = format!(
            "dev_{:06x}",
            if throwaway {
                0xbad000 + rng.gen_range(0..8)
            } else {
                rng.gen_range(0..0xffffff)
            }
        );
        let ip = if throwaway {
            format!("198.51.100.{}", rng.gen_range(1..20))
        } else {
            format!("203.0.113.{}", rng.gen_range(1..255))
        };
        self.networks.push((device.clone(), ip.clone()));
        self.out.subjects.push(NewSubject {
            subject: reference(SubjectKind::Account, &id),
            created_at: Some(created),
            owner: None,
            text: Some(format!("{name}'s profile")),
            media: Vec::new(),
            attributes: json!({
                "display_name": name,
                "email_hash": format!("{:064x}", rng.gen::<u128>()),
                "country": pick(rng, COUNTRIES),
                "language": pick(rng, LANGUAGES),
                "follower_count": if throwaway { rng.gen_range(0..5) } else { rng.gen_range(0..5000) },
                "verified": !throwaway && rng.gen_bool(0.05),
                "device_ids": [device.clone()],
                "ips": [ip.clone()],
                "tags": if !throwaway && rng.gen_bool(0.01) { json!(["high_visibility"]) } else { json!([]) },
            }),
        });
        self.out.events.push(NewEvent {
            id: platform_id(&format!("evt_signup_{n}")),
            event_type: "signup".into(),
            occurred_at: created,
            actor: Some(reference(SubjectKind::Account, &id)),
            subject: None,
            ip: Some(ip),
            device_id: Some(device),
            data: json!({}),
        });
    }

    /// A post: throwaways post spam, which draws reports; a few ordinary
    /// posts draw a mistaken spam report.
    fn post(&mut self, n: usize) {
        let rng = &mut self.rng;
        let bad = !self.bad_accounts.is_empty() && rng.gen_bool(0.08);
        let owner = if bad {
            self.bad_accounts[rng.gen_range(0..self.bad_accounts.len())]
        } else {
            rng.gen_range(0..self.accounts)
        };
        let at = self.now - Duration::minutes(rng.gen_range(10..60 * 24 * 14));
        let text = if bad {
            fill(pick(rng, SPAM_POSTS), rng)
        } else if n.is_multiple_of(6) {
            // Posts that draw a mistaken report (below) say a little more,
            // so that they are not all the same few texts.
            format!(
                "{} {}",
                pick(rng, ORDINARY_POSTS),
                AFTERTHOUGHTS[(n / 6) % AFTERTHOUGHTS.len()]
            )
        } else {
            pick(rng, ORDINARY_POSTS).to_string()
        };
        let media = if rng.gen_bool(0.2) {
            vec![MediaItem {
                url: format!("https://cdn.demo.example/img/{n}.jpg"),
                mime: Some("image/jpeg".into()),
                sha256: Some(format!("{:064x}", rng.gen::<u128>())),
            }]
        } else {
            Vec::new()
        };
        let subject = reference(SubjectKind::Content, &format!("post_{n}"));
        self.publish(Published {
            subject: subject.clone(),
            owner,
            at,
            text: Some(text.clone()),
            media,
            attributes: json!({"visibility": "public"}),
            event_id: format!("evt_post_{n}"),
            event_type: "post_created",
            data: json!({"text": text}),
        });
        let recent = at > self.now - Duration::days(4);
        let age = (self.now - at).num_minutes().max(2);
        if bad && recent {
            let reporters = self.rng.gen_range(1..4);
            for _ in 0..reporters {
                let when = at + Duration::minutes(self.rng.gen_range(1..age));
                self.report(ReportDraft {
                    at: when,
                    subject: subject.clone(),
                    reason: "spam",
                    source: ReportSource::UserReport,
                    text: "spam link",
                });
            }
        } else if !bad && n.is_multiple_of(6) && recent {
            // A mistaken spam report on an ordinary post, as users file.
            self.report_seeded(n as u64, |rng| ReportDraft {
                at: at + Duration::minutes(rng.gen_range(1..age)),
                subject,
                reason: "spam",
                source: ReportSource::UserReport,
                text: "looks like spam to me",
            });
        }
    }

    /// A burst: a throwaway account posting links every few minutes, as a
    /// fresh spam account does in its first hours.
    fn burst(&mut self) {
        let Some(&burst) = self.bad_accounts.first() else {
            return;
        };
        let started = self.now - Duration::hours(5);
        for k in 0..6 {
            let text = fill("Limited offer, see {domain} today", &mut self.rng);
            self.publish(Published {
                subject: reference(SubjectKind::Content, &format!("post_burst_{k}")),
                owner: burst,
                at: started + Duration::minutes(7 * k),
                text: Some(text.clone()),
                media: Vec::new(),
                attributes: json!({"visibility": "public"}),
                event_id: format!("evt_post_burst_{k}"),
                event_type: "post_created",
                data: json!({"text": text}),
            });
        }
    }

    /// A direct message: a few are scams, harassment or phishing, and draw
    /// reports (and, for scams, often a classifier signal).
    fn message(&mut self, n: usize) {
        let rng = &mut self.rng;
        let kind = rng.gen_range(0..100);
        let sender = if kind < 10 && !self.bad_accounts.is_empty() {
            self.bad_accounts[rng.gen_range(0..self.bad_accounts.len())]
        } else {
            rng.gen_range(0..self.accounts)
        };
        let recipient = rng.gen_range(0..self.accounts);
        let at = self.now - Duration::minutes(rng.gen_range(10..60 * 24 * 7));
        let (text, category) = match kind {
            0..=6 => (fill(pick(rng, SCAM_MESSAGES), rng), Some("scam")),
            7..=8 => (pick(rng, HARASSMENT).to_string(), Some("harassment")),
            9 => (
                fill("Verify your account at {domain} or it will be deleted", rng),
                Some("phishing"),
            ),
            _ => (pick(rng, ORDINARY_MESSAGES).to_string(), None),
        };
        let subject = reference(SubjectKind::Message, &format!("msg_{n}"));
        self.publish(Published {
            subject: subject.clone(),
            owner: sender,
            at,
            text: Some(text.clone()),
            media: Vec::new(),
            attributes: json!({"recipient": format!("acct_{recipient}")}),
            event_id: format!("evt_msg_{n}"),
            event_type: "message_sent",
            data: json!({"text": text, "recipient": format!("acct_{recipient}")}),
        });
        match category {
            Some(category) if at > self.now - Duration::days(4) => {
                self.report_message(n, subject, category, at);
            }
            _ => {}
        }
    }

    fn report_message(&mut self, n: usize, subject: SubjectRef, category: &str, at: Timestamp) {
        let when = at + Duration::minutes(self.rng.gen_range(1..120));
        let text = match category {
            "harassment" => "they keep sending me threatening messages",
            "phishing" => "fake login page",
            _ => "this looks like a scam",
        };
        let source = if self.rng.gen_bool(0.15) {
            ReportSource::SupportEscalation
        } else {
            ReportSource::UserReport
        };
        self.report(ReportDraft {
            at: when,
            subject: subject.clone(),
            reason: category,
            source,
            text,
        });
        if category == "scam" && self.rng.gen_bool(0.6) {
            self.out.signals.push((when, NewSignal {
                id: platform_id(&format!("sig_scam_{n}")),
                subject,
                category: "scam".into(),
                source: "classifier".into(),
                name: "scam_text_v3".into(),
                score: self.rng.gen_range(0.7..0.99),
                opens_case: true,
                details: json!({"model": "scam_text_v3", "top_terms": ["bitcoin", "send", "giveaway"]}),
                created_at: Some(when),
            }));
        }
    }

    /// A marketplace listing; counterfeits draw reports, some from trusted
    /// flaggers.
    fn listing(&mut self, n: usize) {
        let rng = &mut self.rng;
        let seller = rng.gen_range(0..self.accounts);
        let at = self.now - Duration::minutes(rng.gen_range(10..60 * 24 * 10));
        let title = pick(rng, LISTINGS);
        let counterfeit = title.contains("Rolex") || title.contains("95% off");
        let subject = reference(SubjectKind::Listing, &format!("listing_{n}"));
        let attributes =
            json!({"price": format!("{}.00", rng.gen_range(5..900)), "currency": "EUR"});
        self.publish(Published {
            subject: subject.clone(),
            owner: seller,
            at,
            text: Some(title.to_string()),
            media: vec![MediaItem {
                url: format!("https://cdn.demo.example/listing/{n}.jpg"),
                mime: Some("image/jpeg".into()),
                sha256: None,
            }],
            attributes,
            event_id: format!("evt_listing_{n}"),
            event_type: "listing_created",
            data: json!({"title": title}),
        });
        if counterfeit && at > self.now - Duration::days(5) {
            let when = at + Duration::minutes(self.rng.gen_range(5..600));
            let source = if self.rng.gen_bool(0.3) {
                ReportSource::TrustedFlagger
            } else {
                ReportSource::UserReport
            };
            self.report(ReportDraft {
                at: when,
                subject,
                reason: "counterfeit",
                source,
                text: "fake brand goods",
            });
        }
    }

    /// A payment; unusually large recent ones are flagged automatically.
    fn payment(&mut self, n: usize) {
        let rng = &mut self.rng;
        let payer = rng.gen_range(0..self.accounts);
        let payee = rng.gen_range(0..self.accounts);
        let at = self.now - Duration::minutes(rng.gen_range(10..60 * 24 * 10));
        let amount = rng.gen_range(5..2500);
        let subject = reference(SubjectKind::Transaction, &format!("txn_{n}"));
        self.publish(Published {
            subject: subject.clone(),
            owner: payer,
            at,
            text: None,
            media: Vec::new(),
            attributes: json!({"amount": format!("{amount}.00"), "currency": "EUR", "payer": {"kind": "account", "id": format!("acct_{payer}")}, "payee": {"kind": "account", "id": format!("acct_{payee}")}}),
            event_id: format!("evt_payment_{n}"),
            event_type: "payment",
            data: json!({"amount": format!("{amount}.00"), "currency": "EUR"}),
        });
        if amount > 2000 && at > self.now - Duration::days(3) {
            let when = at + Duration::minutes(self.rng.gen_range(1..30));
            self.report(ReportDraft {
                at: when,
                subject,
                reason: "fraud",
                source: ReportSource::AutomatedFlag,
                text: "amount far above the payer's history",
            });
        }
    }

    /// A severe case: threats, self-harm, child safety and legal notices,
    /// in turn.
    fn severe_report(&mut self, n: usize) {
        let at = self.now - Duration::minutes(self.rng.gen_range(20..60 * 30));
        let post = reference(
            SubjectKind::Content,
            &format!("post_{}", self.rng.gen_range(0..self.accounts * 2)),
        );
        let (reason, source, text) = match n % 4 {
            0 => (
                "violent_threat",
                ReportSource::UserReport,
                "credible threat against a named person",
            ),
            1 => (
                "self_harm",
                ReportSource::UserReport,
                "user posting about ending their life",
            ),
            2 => (
                "child_safety",
                ReportSource::TrustedFlagger,
                "possible grooming",
            ),
            _ => (
                "ip_infringement",
                ReportSource::LegalNotice,
                "copyright notice from rights holder",
            ),
        };
        self.report(ReportDraft {
            at,
            subject: post,
            reason,
            source,
            text,
        });
    }
}

/// Writes the starter rule pack into `dir` unless it already holds rule
/// files, so that the demo's detection fires on the demo platform and the
/// rules can be edited there while it runs.
pub fn write_starter_rules(dir: Option<&std::path::Path>) -> Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create the rules directory {}: {e}", dir.display()))?;
    let has_rules = std::fs::read_dir(dir)?
        .any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml")));
    if !has_rules {
        for (name, text) in warden_detection::STARTER_PACK {
            std::fs::write(dir.join(name), text)?;
        }
    }
    Ok(())
}

/// The teams a demo user with `role` is in: those of every queue whose
/// roles name `role` (an open queue needs no team).
pub fn demo_teams(policy: &CasePolicy, role: Role) -> Vec<String> {
    let mut teams: Vec<String> = policy
        .router
        .queues()
        .iter()
        .filter(|q| q.roles.contains(&role))
        .flat_map(|q| q.teams.iter().cloned())
        .collect();
    teams.sort();
    teams.dedup();
    teams
}

/// Loads the demo platform and users into `store` unless it is there
/// already, and makes a fresh ingest token.
pub async fn load(store: &SqlStore, policy: &CasePolicy, accounts: usize) -> Result<DemoSummary> {
    let now = Utc::now();
    let system = Actor::system();
    let counts = store.intake_counts().await?;
    let loaded_now = counts.subjects == 0;
    for role in Role::ALL {
        // Each demo user is in the teams of the restricted queues that
        // admit their role (analyst and lead; not associate).
        let teams = demo_teams(policy, role);
        match store.user_by_name(role.as_str()).await? {
            None => {
                let hash = hash_password(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("{e:?}"))?;
                store
                    .create_user_with_teams(&system, role.as_str(), role, &hash, &teams, now)
                    .await?;
            }
            Some(user) if user.teams != teams => {
                store
                    .set_user_teams(&system, role.as_str(), &teams, now)
                    .await?;
            }
            Some(_) => {}
        }
    }
    if loaded_now {
        let data = generate(accounts.max(100), now);
        let bar = progress::bar(data.subjects.len() as u64, "subjects");
        for chunk in data.subjects.chunks(LOAD_BATCH) {
            store.ingest_subjects(&system, chunk.to_vec(), now).await?;
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let bar = progress::bar(data.events.len() as u64, "events");
        for chunk in data.events.chunks(LOAD_BATCH) {
            store.ingest_events(&system, chunk.to_vec(), now).await?;
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        replay_timeline(store, policy, data.reports, data.signals, now).await?;
        super::demo_quality::seed(store, policy, now).await?;
        appeal_some_decisions(store, policy, now).await?;
        super::demo_incidents::seed(store, policy, DEMO_PASSWORD, now).await?;
        super::demo_kpis::seed(store, now).await?;
        super::demo_escalations::seed(store, policy).await?;
    }
    let admin = store
        .user_by_name("admin")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo admin is missing"))?;
    let ingest_token = new_token();
    store
        .create_token(
            &system,
            admin.id,
            "demo-ingest",
            Scope::Ingest,
            &secret_hash(&ingest_token),
            now,
        )
        .await?;
    let counts = store.intake_counts().await?;
    Ok(DemoSummary {
        loaded_now,
        subjects: counts.subjects,
        reports: counts.reports,
        cases: counts.cases,
        ingest_token,
    })
}

/// Replays reports and signals in time order, with the demo analyst working
/// cases now and then as they come in, as they would have over the past days.
async fn replay_timeline(
    store: &SqlStore,
    policy: &CasePolicy,
    reports: Vec<(Timestamp, NewReport)>,
    signals: Vec<(Timestamp, NewSignal)>,
    now: Timestamp,
) -> Result<()> {
    enum Item {
        Report(NewReport),
        Signal(NewSignal),
    }
    let mut timeline: Vec<(Timestamp, Item)> = reports
        .into_iter()
        .map(|(at, r)| (at, Item::Report(r)))
        .chain(signals.into_iter().map(|(at, s)| (at, Item::Signal(s))))
        .collect();
    timeline.sort_by_key(|(at, _)| *at);
    let analyst = store
        .user_by_name("analyst")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo analyst is missing"))?;
    let actor = Actor::user(analyst.id, &analyst.name);
    let mut rng = StdRng::seed_from_u64(7);
    let bar = progress::bar(timeline.len() as u64, "reports");
    for (at, item) in timeline {
        match item {
            Item::Report(report) => {
                store
                    .ingest_reports(&Actor::system(), vec![report], policy, at)
                    .await?
            }
            Item::Signal(signal) => {
                store
                    .ingest_signals(&Actor::system(), vec![signal], policy, at)
                    .await?
            }
        };
        bar.inc(1);
        let worked_at = at + Duration::minutes(rng.gen_range(1..45));
        if rng.gen_bool(0.3) && worked_at < now - Duration::minutes(5) {
            let queue = ["spam", "spam", "fraud", "harassment", "general"]
                .choose(&mut rng)
                .copied()
                .unwrap_or("spam");
            work_one_case(store, policy, &actor, queue, worked_at, &mut rng).await?;
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// What the demo analyst does about a violation: holds a transaction,
/// removes and suspends for some spam, removes and warns otherwise.
fn demo_actions(kind: SubjectKind, category: &str, rng: &mut StdRng) -> Vec<ActionSpec> {
    let spec = |kind, days: Option<i64>| ActionSpec {
        kind,
        duration: days.map(Duration::days),
    };
    if kind == SubjectKind::Transaction {
        vec![spec(ActionKind::HoldTransaction, Some(3))]
    } else if category == "spam" && rng.gen_bool(0.3) {
        vec![
            spec(ActionKind::RemoveContent, None),
            spec(ActionKind::Suspend, Some(7)),
        ]
    } else {
        vec![
            spec(ActionKind::RemoveContent, None),
            spec(ActionKind::Warn, None),
        ]
    }
}

/// The configuration the demo serves with: unless `[classifier]` names
/// models, the `spam` model is retrained from decisions every hour, goes
/// live after a day in shadow without regression, and its score adds up to
/// 20 points to a new spam case's priority.
fn with_classifier(config: &crate::config::Config) -> crate::config::Config {
    let mut config = config.clone();
    if config.classifier.models.is_empty() {
        config.classifier.retrain_every = "PT1H".into();
        config.classifier.shadow_period = "P1D".into();
        config.classifier.priority_weight = 20;
        config.classifier.models = vec![crate::classifier_config::ModelSection {
            name: "spam".into(),
            category: "spam".into(),
        }];
    }
    config
}

/// Whether a demo text is one of the spam templates (a spam domain, or
/// their shouting and money words).
fn looks_like_spam(text: &str) -> bool {
    SPAM_DOMAINS.iter().any(|d| text.contains(d))
        || ["FOLLOWERS", "$500/day", "singles", "replica", "% off"]
            .iter()
            .any(|w| text.contains(w))
}

/// Trains the demo's `spam` classifier from the demo analyst's spam
/// decisions and puts it live when none is, so case pages show scores;
/// says what it did. A demo too small to train on says so and goes on.
async fn train_classifier(store: &SqlStore, app: &warden_app::App) -> Result<String> {
    use warden_app::classifiers::{ModelName, RetrainCommand};
    if store.live_model("spam").await?.is_some() {
        return Ok("the spam classifier is live".into());
    }
    let command = RetrainCommand {
        name: ModelName::parse("spam").map_err(|e| anyhow::anyhow!(e.chain()))?,
        category: warden_domain::ids::TaxonomyCode::parse("spam").map_err(anyhow::Error::msg)?,
        since: None,
        options: warden_classifier::TrainingOptions::for_kind(
            warden_classifier::ModelKind::LogisticRegression,
        ),
        holdout: warden_classifier::Holdout::default(),
        note: "trained by the demo from its analyst's spam decisions".into(),
    };
    let outcome = match app
        .retrain_from_decisions(&warden_app::Actor::System, command)
        .await
    {
        Ok(outcome) => outcome,
        Err(error) => return Ok(format!("no spam classifier: {}", error.chain())),
    };
    let Some(saved) = outcome.saved else {
        return Ok("no spam classifier: the new version was not better".into());
    };
    app.promote_shadow_if_due(
        &warden_app::Actor::System,
        &ModelName::parse("spam").map_err(|e| anyhow::anyhow!(e.chain()))?,
        Duration::zero(),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.chain()))?;
    Ok(format!(
        "trained the spam classifier from {} spam and {} other decisions (held-out F1 {:.2}), version {} live",
        outcome.examples.0, outcome.examples.1, outcome.evaluation.f1, saved.version
    ))
}

/// The demo analyst's verdict: spam by the text (so a classifier can learn
/// from the demo's decisions), other categories four times in five.
async fn judge(
    store: &SqlStore,
    case: &warden_store::CaseRecord,
    rng: &mut StdRng,
) -> Result<bool> {
    let likely = rng.gen_bool(0.8);
    if case.category != "spam" {
        return Ok(likely);
    }
    let text = store.judged_text(&case.subject).await?;
    Ok(text.as_deref().is_some_and(looks_like_spam))
}

/// The demo's configuration with its classifier settings, after training
/// the classifier; with what was done, in words.
pub async fn classifier(
    config: &crate::config::Config,
    store: std::sync::Arc<SqlStore>,
    policy: &CasePolicy,
) -> Result<(crate::config::Config, String)> {
    let config = with_classifier(config);
    let app = warden_app::App::new(
        store.clone(),
        policy.clone(),
        config.server_settings(true).app_settings(),
    );
    let trained = train_classifier(store.as_ref(), &app).await?;
    Ok((config, trained))
}

/// Appeals of a few of the demo analyst's decisions, from the accounts
/// they concern: they wait in the `appeals` queue for another analyst or a
/// lead (the demo analyst never sees them there).
async fn appeal_some_decisions(
    store: &SqlStore,
    policy: &CasePolicy,
    now: Timestamp,
) -> Result<()> {
    const APPEALS: usize = 3;
    let verdicts = store.subject_verdicts(now - Duration::days(30)).await?;
    let mut made = 0;
    for verdict in verdicts.iter().filter(|v| v.violation) {
        if made == APPEALS {
            break;
        }
        let history = store.subject_history(&verdict.subject, 5, now).await?;
        let Some(decision) = history
            .decisions
            .iter()
            .find(|d| d.violation && d.superseded_by.is_none())
        else {
            continue;
        };
        let owner = history.subject.as_ref().and_then(|s| s.owner.clone());
        let appellant = match owner {
            Some(owner) if owner.kind == SubjectKind::Account => owner,
            _ if verdict.subject.kind == SubjectKind::Account => verdict.subject.clone(),
            _ => continue,
        };
        let appeal = NewAppeal {
            id: platform_id(&format!("demo_appeal_{}", decision.id)),
            decision: DecisionId(decision.id),
            action: None,
            appellant,
            statement: "I think this was a mistake: the post was a joke between friends.".into(),
            language: Some(LanguageTag::english()),
            created_at: None,
        };
        let rules = warden_store::AppealRules::default();
        match store
            .submit_appeal(&Actor::system(), &appeal, &rules, policy, now)
            .await
        {
            Ok(_) => made += 1,
            // A decision that cannot be appealed (reversed since) is skipped.
            Err(warden_store::StoreError::Invalid { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// The demo analyst claims the next case of `queue` at `at` and decides it.
async fn work_one_case(
    store: &SqlStore,
    policy: &CasePolicy,
    actor: &Actor,
    queue: &str,
    at: Timestamp,
    rng: &mut StdRng,
) -> Result<()> {
    let Some(case) = store
        .claim_next(actor, queue, Duration::minutes(10), at)
        .await?
    else {
        return Ok(());
    };
    let violation = judge(store, &case, rng).await?;
    let actions = if violation {
        demo_actions(case.subject.kind, &case.category, rng)
    } else {
        Vec::new()
    };
    let input = DecisionInput {
        violation,
        category: case.category.clone(),
        policy: Some(format!("{}-policy-1", case.category)),
        rationale: Rationale {
            what_happened: format!("{} reported for {}", case.subject, case.category),
            evidence: if violation {
                "text matches a known campaign; reporters' notes agree".into()
            } else {
                String::new()
            },
            policy: format!("{} policy, section 1", case.category),
            action: if actions.is_empty() {
                String::new()
            } else {
                "standard enforcement for a first offence".into()
            },
            next_steps: "none".into(),
        },
        actions,
    };
    let decided_at = at + Duration::minutes(rng.gen_range(2..9));
    store
        .decide(
            actor,
            case.id,
            case.version,
            input,
            policy,
            warden_store::DecisionMode::First,
            decided_at,
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_analysts_and_leads_get_the_restricted_queues_teams() {
        let policy = crate::config::Config::default().case_policy().unwrap();
        // The restricted queues of the default configuration and the
        // specialist teams' queues ([escalation.teams]).
        let both: Vec<String> = [
            "account_security",
            "child_safety",
            "fraud_ring",
            "legal",
            "self_harm",
            "violent_extremism",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(demo_teams(&policy, Role::Analyst), both);
        assert_eq!(demo_teams(&policy, Role::Lead), both);
        assert!(demo_teams(&policy, Role::Associate).is_empty());
        assert!(demo_teams(&policy, Role::Qa).is_empty());
    }

    #[test]
    fn generation_is_deterministic_and_plausible() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 20, 12, 0, 0).unwrap();
        let a = generate(500, now);
        let b = generate(500, now);
        assert_eq!(a.subjects.len(), b.subjects.len());
        assert_eq!(a.reports.len(), b.reports.len());
        assert!(a.subjects.len() > 500 * 3);
        assert!(a.reports.len() > 30, "{}", a.reports.len());
        let categories: std::collections::BTreeSet<&str> =
            a.reports.iter().map(|(_, r)| r.reason.as_str()).collect();
        assert!(categories.len() >= 6, "{categories:?}");
        assert!(a.reports.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
