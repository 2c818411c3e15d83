//! The escalation package as printable Markdown (CommonMark).
//!
//! The package quotes the platform's text and analysts' words, which may
//! hold anything: `#`, backticks, `---`, `<script>`, line breaks,
//! bidirectional overrides. None of it may change the document's
//! structure, so every piece of text goes through one of three doors:
//!
//! - [`escape_inline`]: one line; line breaks become spaces, every
//!   character CommonMark gives meaning to is backslash-escaped, hidden
//!   characters are shown as `⟨U+202E⟩`;
//! - [`quote_block`]: several lines, each escaped the same way and
//!   prefixed with `> `, so they stay inside one block quote;
//! - [`code_span`]: ids, hashes and URLs, verbatim inside a backtick fence
//!   longer than any run of backticks they hold.
//!
//! Blocks are always separated by a blank line, so no lazy continuation
//! can pull a following line into a quote or a list item.

use std::fmt::Write as _;

use crate::evidence::EvidenceContent;
use crate::text::is_hidden;
use crate::Timestamp;

use super::package::{EscalationPackage, PackageDecision, PackageNote};
use crate::decision::Rationale;

/// ASCII punctuation with a meaning somewhere in CommonMark (emphasis,
/// code, links, headings, lists, quotes, HTML, entities, tables, setext
/// underlines, strikethrough).
const MARKDOWN_SPECIAL: &[char] = &[
    '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '-', '.', '!', '|', '<', '>', '~',
    '=', '&', ':',
];

fn push_visible(out: &mut String, c: char) {
    if is_hidden(c) {
        let _ = write!(out, "⟨U+{:04X}⟩", c as u32);
    } else if MARKDOWN_SPECIAL.contains(&c) {
        out.push('\\');
        out.push(c);
    } else {
        out.push(c);
    }
}

/// Text as one line of Markdown that means exactly its characters: line
/// breaks (and tabs) become spaces, special characters are escaped, hidden
/// ones shown by code point, the ends trimmed.
pub fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.trim().chars() {
        match c {
            '\r' | '\n' | '\t' => out.push(' '),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// Text as a block quote: every line escaped and prefixed with `> `; an
/// empty text is one empty quote line, so the document's shape never
/// depends on what was written.
pub fn quote_block(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::new();
    for line in normalised.trim_matches('\n').split('\n') {
        let mut escaped = String::with_capacity(line.len() + 8);
        for c in line.chars() {
            match c {
                '\t' => escaped.push_str("    "),
                c => push_visible(&mut escaped, c),
            }
        }
        let escaped = escaped.trim_end();
        if escaped.is_empty() {
            out.push_str(">\n");
        } else {
            out.push_str("> ");
            out.push_str(escaped);
            out.push('\n');
        }
    }
    out
}

/// An id, hash or URL verbatim in a code span whose fence is longer than
/// any run of backticks inside; line breaks become spaces and hidden
/// characters are shown by code point.
pub fn code_span(text: &str) -> String {
    let mut content = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\t' => content.push(' '),
            c if is_hidden(c) => {
                let _ = write!(content, "⟨U+{:04X}⟩", c as u32);
            }
            c => content.push(c),
        }
    }
    let longest_run = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // One space on each side is stripped again by CommonMark, and keeps a
    // leading or trailing backtick of the content from joining the fence.
    format!("{fence} {content} {fence}")
}

fn time(at: Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The package as a printable Markdown document.
pub fn to_markdown(package: &EscalationPackage) -> String {
    let mut out = String::new();
    let case = &package.case;
    let escalation = &package.escalation;
    let _ = writeln!(out, "# Escalation package: case {}\n", case.id);
    let _ = writeln!(
        out,
        "**{}** to the {} team; acknowledge by {}.\n",
        escape_inline(&escalation.severity.title()),
        code_span(&escalation.team),
        time(package.acknowledge_by)
    );
    section(&mut out, "Summary");
    out.push_str(&quote_block(&package.summary));
    out.push('\n');
    escalation_section(&mut out, package);
    people_sections(&mut out, package);
    evidence_section(&mut out, package);
    reports_section(&mut out, package);
    history_section(&mut out, package);
    notes_section(&mut out, &package.notes);
    decisions_section(&mut out, &package.decisions);
    closing_sections(&mut out, package);
    let _ = writeln!(out, "Assembled {}.", time(package.assembled_at));
    out
}

/// Subjects, linked accounts and the timeline.
fn people_sections(out: &mut String, package: &EscalationPackage) {
    section(out, "Subjects");
    list(
        out,
        package
            .subject_ids
            .iter()
            .map(|s| code_span(&s.to_string())),
    );
    section(out, "Linked accounts");
    list(
        out,
        package.linked_accounts.iter().map(|l| {
            format!(
                "{}: {}",
                code_span(&l.account.to_string()),
                escape_inline(&l.link)
            )
        }),
    );
    section(out, "Timeline");
    list(
        out,
        package.timeline.iter().map(|e| {
            let who = e
                .who
                .as_deref()
                .map(|w| format!(" (by {})", escape_inline(w)))
                .unwrap_or_default();
            format!("{}: {}{who}", time(e.at), escape_inline(&e.what))
        }),
    );
}

/// Recommended next steps and what was left out.
fn closing_sections(out: &mut String, package: &EscalationPackage) {
    section(out, "Recommended next steps");
    list(
        out,
        package
            .recommended_next_steps
            .iter()
            .map(|s| escape_inline(s)),
    );
    if !package.omitted.is_empty() {
        section(out, "Left out");
        list(
            out,
            package.omitted.iter().map(|(part, n)| {
                format!(
                    "{n} more {}; see the case page",
                    escape_inline(part.as_str())
                )
            }),
        );
    }
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "## {title}\n");
}

/// A bulleted list, or `- none`, then a blank line.
fn list(out: &mut String, items: impl Iterator<Item = String>) {
    let mut any = false;
    for item in items {
        any = true;
        let _ = writeln!(out, "- {item}");
    }
    if !any {
        out.push_str("- none\n");
    }
    out.push('\n');
}

fn escalation_section(out: &mut String, package: &EscalationPackage) {
    let escalation = &package.escalation;
    section(out, "Escalation");
    list(
        out,
        [
            format!("Team: {}", code_span(&escalation.team)),
            format!("Severity: {}", escape_inline(&escalation.severity.title())),
            format!(
                "Definition: {}",
                escape_inline(&escalation.severity.definition)
            ),
            format!(
                "Escalated by {} at {}",
                escape_inline(&escalation.escalated_by),
                time(escalation.escalated_at)
            ),
            format!("Acknowledge by: {}", time(package.acknowledge_by)),
            format!(
                "Case: {} in queue {}, {}, {} severity, {}",
                package.case.id,
                code_span(&package.case.queue),
                code_span(&package.case.category),
                package.case.severity,
                package.case.status
            ),
        ]
        .into_iter(),
    );
    out.push_str("**Reason**\n\n");
    out.push_str(&quote_block(&escalation.reason));
    out.push('\n');
}

fn evidence_section(out: &mut String, package: &EscalationPackage) {
    section(out, "Evidence");
    if package.evidence.is_empty() {
        out.push_str("- none\n\n");
    }
    for item in &package.evidence {
        let _ = writeln!(out, "### Evidence {} ({})\n", item.id, item.content.kind());
        let what = match &item.content {
            EvidenceContent::TextExcerpt { .. } => "Text excerpt, quoted below".to_string(),
            EvidenceContent::Url { url } => format!("URL: {}", code_span(url)),
            EvidenceContent::File { name, media_type } => format!(
                "File: {} ({})",
                code_span(name.as_str()),
                code_span(media_type.as_str())
            ),
        };
        list(
            out,
            [
                what,
                format!("SHA-256: {}", code_span(&item.hash.to_hex())),
                format!("Check: {}", escape_inline(&item.check.to_string())),
                format!("Size: {} bytes", item.size_bytes),
                format!(
                    "Added by {} at {}",
                    escape_inline(&item.added_by),
                    time(item.added_at)
                ),
                format!("Caption: {}", escape_inline(&item.caption)),
            ]
            .into_iter(),
        );
        if let EvidenceContent::TextExcerpt { text } = &item.content {
            out.push_str(&quote_block(text));
            out.push('\n');
        }
    }
}

fn reports_section(out: &mut String, package: &EscalationPackage) {
    section(out, "Reports");
    if package.reports.is_empty() {
        out.push_str("- none\n\n");
    }
    for report in &package.reports {
        let _ = writeln!(out, "### Report {}\n", code_span(&report.id));
        list(
            out,
            [
                format!("Source: {}", report.source),
                format!("Reason: {}", code_span(&report.reason)),
                format!("Received: {}", time(report.created_at)),
            ]
            .into_iter(),
        );
        if let Some(text) = &report.text {
            out.push_str(&quote_block(text));
            out.push('\n');
        }
    }
    section(out, "Signals");
    list(
        out,
        package.signals.iter().map(|s| {
            format!(
                "{} {} scored {:.2} at {}",
                code_span(&s.source),
                code_span(&s.name),
                s.score,
                time(s.created_at)
            )
        }),
    );
}

fn history_section(out: &mut String, package: &EscalationPackage) {
    section(out, "Prior actions");
    list(
        out,
        package.prior_actions.iter().map(|a| {
            let ends = a
                .expires_at
                .map(|t| format!(", ends {}", time(t)))
                .unwrap_or_default();
            format!(
                "Action {} ({}) on {}: {}, ordered {} by decision {}{ends}",
                a.id,
                a.kind,
                code_span(&a.target.to_string()),
                a.status,
                time(a.ordered_at),
                a.decision
            )
        }),
    );
    section(out, "Strikes");
    list(
        out,
        package.strikes.iter().map(|s| {
            let state = if s.active {
                "active"
            } else if s.strike.voided {
                "voided"
            } else {
                "expired"
            };
            format!(
                "Strike {} on {}: {}, weight {}, given {}, counts until {}, {state}",
                s.strike.id,
                code_span(&s.strike.account.to_string()),
                code_span(&s.strike.category),
                s.strike.weight,
                time(s.strike.created_at),
                time(s.strike.expires_at)
            )
        }),
    );
}

fn rationale(out: &mut String, body: &Rationale) {
    for (title, text) in [
        ("What happened", &body.what_happened),
        ("Evidence", &body.evidence),
        ("Policy", &body.policy),
        ("Action", &body.action),
        ("Next steps", &body.next_steps),
    ] {
        if text.trim().is_empty() {
            continue;
        }
        let _ = writeln!(out, "**{title}**\n");
        out.push_str(&quote_block(text));
        out.push('\n');
    }
}

fn notes_section(out: &mut String, notes: &[PackageNote]) {
    section(out, "Notes");
    if notes.is_empty() {
        out.push_str("- none\n\n");
    }
    for note in notes {
        let _ = writeln!(
            out,
            "### Note by {}, {}\n",
            escape_inline(&note.author),
            time(note.created_at)
        );
        rationale(out, &note.body);
    }
}

fn decisions_section(out: &mut String, decisions: &[PackageDecision]) {
    section(out, "Decisions");
    if decisions.is_empty() {
        out.push_str("- none\n\n");
    }
    for decision in decisions {
        let by = decision
            .author
            .as_deref()
            .map_or_else(|| "Warden".to_string(), escape_inline);
        let _ = writeln!(
            out,
            "### Decision {} by {by}, {}: {} ({})\n",
            decision.id,
            time(decision.decided_at),
            if decision.violation {
                "violation"
            } else {
                "no violation"
            },
            code_span(&decision.category)
        );
        rationale(out, &decision.rationale);
    }
}
