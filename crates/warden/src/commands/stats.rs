//! `warden stats ...`: statistics over a team's own exports, computed by the
//! same domain code the server uses. `stats agreement` reads a CSV of
//! ratings (`item,rater,label`) and prints the calibration statistics as
//! JSON (the calibration contract's fields) or as a table for people.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::ProgressBar;
use serde::Serialize;

use warden_domain::limits::{AGREEMENT_CSV_BYTES_MAX, AGREEMENT_CSV_LINE_BYTES_MAX};
use warden_domain::quality::agreement::{
    self, AgreementError, AgreementReport, RatingTable, RatingTableBuilder, Statistic,
};

use crate::cli::{StatsCommand, StatsFormat};
use crate::progress;

/// The header a ratings CSV must start with.
const HEADER: [&str; 3] = ["item", "rater", "label"];

use crate::limits::PROGRESS_BYTES_MIN;

/// Ratings read between updates of the progress bar.
const PROGRESS_EVERY: usize = 65_536;

/// Runs `warden stats ...`.
pub fn run(command: StatsCommand) -> Result<ExitCode> {
    match command {
        StatsCommand::Agreement { file, format } => {
            let table = read_ratings(&file)?;
            let report = agreement::measure(table.ratings());
            let mut out = BufWriter::new(io::stdout().lock());
            match format {
                StatsFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &AgreementOutput::new(&table, &report))?;
                    writeln!(out)?;
                }
                StatsFormat::Table => write_table(&mut out, &table, &report)?,
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

// ------------------------------------------------------------------ reading

/// Reads a ratings CSV (`-` is standard input) into a table, or fails
/// naming the line (and the column) at fault.
fn read_ratings(path: &Path) -> Result<RatingTable> {
    let stdin = path == Path::new("-");
    let (source, size): (Box<dyn Read>, Option<u64>) = if stdin {
        (Box::new(io::stdin().lock()), None)
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let size = file.metadata().ok().map(|metadata| metadata.len());
        (Box::new(file), size)
    };
    let name = if stdin {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    read_table(source, size, &name)
}

fn read_table(source: Box<dyn Read>, size: Option<u64>, name: &str) -> Result<RatingTable> {
    if let Some(size) = size.filter(|&size| size > AGREEMENT_CSV_BYTES_MAX) {
        bail!("{name} is {size} bytes; at most {AGREEMENT_CSV_BYTES_MAX} are read");
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(BoundedLines::new(source));
    let mut record = csv::StringRecord::new();
    if !reader.read_record(&mut record).map_err(csv_error)? {
        bail!("{name} is empty; the first line must be the header item,rater,label");
    }
    check_header(&record)?;

    let bar = match size {
        Some(size) if size >= PROGRESS_BYTES_MIN => progress::bar(size, "reading ratings"),
        _ => ProgressBar::hidden(),
    };
    let mut table = RatingTableBuilder::new();
    // The line of each rating, to name both lines of a repeated rating.
    let mut lines: Vec<u64> = Vec::new();
    let mut until_progress = PROGRESS_EVERY;
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != HEADER.len() {
            bail!(
                "line {line}: expected 3 fields (item,rater,label), found {}",
                record.len()
            );
        }
        table
            .add(&record[0], &record[1], &record[2])
            .map_err(|error| match column(&error) {
                Some(column) => anyhow!("line {line}, column {column}: {error}"),
                None => anyhow!("line {line}: {error}"),
            })?;
        lines.push(line);
        until_progress -= 1;
        if until_progress == 0 {
            until_progress = PROGRESS_EVERY;
            bar.set_position(record.position().map_or(0, csv::Position::byte));
        }
    }
    bar.finish_and_clear();
    let line = |position: usize| lines.get(position).copied().unwrap_or(0);
    table.finish().map_err(|error| match error {
        AgreementError::DuplicateRating {
            first,
            second,
            item,
            rater,
        } => anyhow!(
            "line {}: item {item:?} is rated twice by rater {rater:?} (first on line {})",
            line(second),
            line(first)
        ),
        other => anyhow!("{name}: {other}"),
    })
}

fn check_header(record: &csv::StringRecord) -> Result<()> {
    for (index, expected) in HEADER.iter().enumerate() {
        match record.get(index) {
            Some(found) if found == *expected => {}
            Some(found) => bail!(
                "line 1, column {}: the header has {found:?} where {expected:?} belongs; it must be exactly item,rater,label",
                index + 1
            ),
            None => bail!(
                "line 1, column {}: the header lacks {expected:?}; it must be exactly item,rater,label",
                index + 1
            ),
        }
    }
    if record.len() > HEADER.len() {
        bail!(
            "line 1, column {}: the header has more than three columns; it must be exactly item,rater,label",
            HEADER.len() + 1
        );
    }
    Ok(())
}

/// The CSV column of the field an error names.
fn column(error: &AgreementError) -> Option<usize> {
    match error.field() {
        "item" => Some(1),
        "rater" => Some(2),
        "label" => Some(3),
        _ => None,
    }
}

fn csv_error(error: csv::Error) -> anyhow::Error {
    match error.kind() {
        csv::ErrorKind::Utf8 { pos, err } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            anyhow!("line {line}, column {}: not valid UTF-8", err.field() + 1)
        }
        csv::ErrorKind::Io(io) => anyhow!("cannot read the ratings: {io}"),
        _ => anyhow!("cannot read the ratings: {error}"),
    }
}

/// A reader that refuses a physical line longer than
/// [`AGREEMENT_CSV_LINE_BYTES_MAX`] or input longer than
/// [`AGREEMENT_CSV_BYTES_MAX`], so that a file that is not ratings (or a
/// quoted field that never closes) cannot fill memory.
struct BoundedLines<R> {
    inner: R,
    bytes: u64,
    line: u64,
    line_bytes: usize,
}

impl<R: Read> BoundedLines<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            bytes: 0,
            line: 1,
            line_bytes: 0,
        }
    }
}

impl<R: Read> Read for BoundedLines<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.bytes += read as u64;
        if self.bytes > AGREEMENT_CSV_BYTES_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the input is longer than {AGREEMENT_CSV_BYTES_MAX} bytes"),
            ));
        }
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                self.line += 1;
                self.line_bytes = 0;
            } else {
                self.line_bytes += 1;
                if self.line_bytes > AGREEMENT_CSV_LINE_BYTES_MAX {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "line {} is longer than {AGREEMENT_CSV_LINE_BYTES_MAX} bytes; a rating is three short fields",
                            self.line
                        ),
                    ));
                }
            }
        }
        Ok(read)
    }
}

// ------------------------------------------------------------------- JSON

/// The answer, with the calibration contract's field names (and more).
#[derive(Serialize)]
struct AgreementOutput<'a> {
    items: usize,
    raters: usize,
    ratings: usize,
    categories: usize,
    percent_agreement: Option<f64>,
    fleiss_kappa: Option<f64>,
    krippendorff_alpha_nominal: Option<f64>,
    cohen_kappa: Option<f64>,
    pairs: Vec<PairOutput<'a>>,
    raters_vs_consensus: Vec<RaterOutput<'a>>,
    most_disputed: Vec<DisputedOutput<'a>>,
    /// Items whose labels tie for the most ratings.
    items_without_consensus: usize,
    /// Why each null statistic above is null.
    undefined: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct PairOutput<'a> {
    a: &'a str,
    b: &'a str,
    cohen_kappa: Option<f64>,
    /// Items both rated.
    n: u32,
    /// The share of those both labelled alike.
    agreement: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    undefined: Option<&'static str>,
}

#[derive(Serialize)]
struct RaterOutput<'a> {
    rater: &'a str,
    agreement: Option<f64>,
    /// Ratings compared with a consensus.
    n: u32,
    /// All the rater's ratings.
    ratings: u32,
}

#[derive(Serialize)]
struct DisputedOutput<'a> {
    item: &'a str,
    labels: BTreeMap<&'a str, u32>,
    agreement: f64,
    ratings: u32,
}

impl<'a> AgreementOutput<'a> {
    fn new(table: &'a RatingTable, report: &AgreementReport) -> Self {
        let mut undefined = BTreeMap::new();
        let mut value = |name: &'static str, statistic: Statistic| {
            statistic
                .map_err(|why| undefined.insert(name, why.reason()))
                .ok()
        };
        let percent_agreement = value("percent_agreement", report.percent_agreement);
        let fleiss_kappa = value("fleiss_kappa", report.fleiss_kappa);
        let krippendorff_alpha_nominal = value(
            "krippendorff_alpha_nominal",
            report.krippendorff_alpha_nominal,
        );
        let cohen_kappa = value("cohen_kappa", report.cohen_kappa);
        Self {
            items: report.items,
            raters: report.raters,
            ratings: report.ratings,
            categories: report.categories,
            percent_agreement,
            fleiss_kappa,
            krippendorff_alpha_nominal,
            cohen_kappa,
            pairs: report
                .pairs
                .iter()
                .map(|pair| PairOutput {
                    a: rater(table, pair.a),
                    b: rater(table, pair.b),
                    cohen_kappa: pair.cohen_kappa.ok(),
                    n: pair.shared_items,
                    agreement: pair.observed_agreement.ok(),
                    undefined: pair.cohen_kappa.err().map(|why| why.reason()),
                })
                .collect(),
            raters_vs_consensus: report
                .raters_vs_consensus
                .iter()
                .map(|entry| RaterOutput {
                    rater: rater(table, entry.rater),
                    agreement: entry.agreement.ok(),
                    n: entry.compared,
                    ratings: entry.ratings,
                })
                .collect(),
            most_disputed: report
                .most_disputed
                .iter()
                .map(|disputed| DisputedOutput {
                    item: item(table, disputed.item),
                    labels: disputed
                        .labels
                        .iter()
                        .map(|&(category, count)| (label(table, category), count))
                        .collect(),
                    agreement: disputed.agreement,
                    ratings: disputed.ratings,
                })
                .collect(),
            items_without_consensus: items_without_consensus(report),
            undefined,
        }
    }
}

fn items_without_consensus(report: &AgreementReport) -> usize {
    report
        .item_agreement
        .iter()
        .filter(|item| item.ratings > 0 && item.consensus.category().is_none())
        .count()
}

// Indices in a report come from its table, so every name exists; an empty
// name would only show a bug, never stop the answer.
fn item(table: &RatingTable, index: u32) -> &str {
    table.item_name(index).unwrap_or_default()
}

fn rater(table: &RatingTable, index: u32) -> &str {
    table.rater_name(index).unwrap_or_default()
}

fn label(table: &RatingTable, index: u32) -> &str {
    table.label(index).unwrap_or_default()
}

// ------------------------------------------------------------------ table

fn write_table(out: &mut impl Write, table: &RatingTable, report: &AgreementReport) -> Result<()> {
    writeln!(
        out,
        "{} items, {} raters, {} ratings, {} labels; items tied for consensus: {}",
        report.items,
        report.raters,
        report.ratings,
        report.categories,
        items_without_consensus(report)
    )?;
    writeln!(out)?;
    write_statistics(out, report)?;
    writeln!(out)?;
    write_pairs(out, table, report)?;
    writeln!(out)?;
    write_raters(out, table, report)?;
    writeln!(out)?;
    write_disputed(out, table, report)
}

/// The four agreement statistics, and why any is undefined.
fn write_statistics(out: &mut impl Write, report: &AgreementReport) -> Result<()> {
    let statistics = [
        ("percent agreement (Fleiss' P̄)", report.percent_agreement),
        ("Fleiss' kappa", report.fleiss_kappa),
        (
            "Krippendorff's alpha (nominal)",
            report.krippendorff_alpha_nominal,
        ),
        ("Cohen's kappa", report.cohen_kappa),
    ];
    let rows = statistics
        .iter()
        .map(|(name, statistic)| {
            vec![
                (*name).to_string(),
                number(*statistic),
                statistic.err().map_or(String::new(), |why| why.to_string()),
            ]
        })
        .collect();
    Columns::new(
        &["statistic", "value", "why undefined"],
        &[false, true, false],
        rows,
    )
    .write(out)?;
    Ok(())
}

/// Cohen's kappa of every pair of raters.
fn write_pairs(out: &mut impl Write, table: &RatingTable, report: &AgreementReport) -> Result<()> {
    writeln!(out, "Pairs: Cohen's kappa over the items both rated")?;
    let rows = report
        .pairs
        .iter()
        .map(|pair| {
            vec![
                rater(table, pair.a).to_string(),
                rater(table, pair.b).to_string(),
                pair.shared_items.to_string(),
                number(pair.observed_agreement),
                number(pair.cohen_kappa),
            ]
        })
        .collect();
    Columns::new(
        &["rater a", "rater b", "items", "agreement", "kappa"],
        &[false, false, true, true, true],
        rows,
    )
    .write(out)?;
    Ok(())
}

/// Every rater against the consensus.
fn write_raters(out: &mut impl Write, table: &RatingTable, report: &AgreementReport) -> Result<()> {
    writeln!(
        out,
        "Raters against the consensus (items with two or more ratings and no tie)"
    )?;
    let rows = report
        .raters_vs_consensus
        .iter()
        .map(|entry| {
            vec![
                rater(table, entry.rater).to_string(),
                entry.ratings.to_string(),
                entry.compared.to_string(),
                number(entry.agreement),
            ]
        })
        .collect();
    Columns::new(
        &["rater", "ratings", "compared", "agreement"],
        &[false, true, true, true],
        rows,
    )
    .write(out)?;
    Ok(())
}

/// The most disputed items with their labels.
fn write_disputed(
    out: &mut impl Write,
    table: &RatingTable,
    report: &AgreementReport,
) -> Result<()> {
    writeln!(out, "Most disputed items")?;
    let rows = report
        .most_disputed
        .iter()
        .map(|disputed| {
            let labels: Vec<String> = disputed
                .labels
                .iter()
                .map(|&(category, count)| format!("{} {count}", label(table, category)))
                .collect();
            vec![
                item(table, disputed.item).to_string(),
                disputed.ratings.to_string(),
                format!("{:.3}", disputed.agreement),
                labels.join(", "),
            ]
        })
        .collect();
    Columns::new(
        &["item", "ratings", "agreement", "labels"],
        &[false, true, true, false],
        rows,
    )
    .write(out)?;
    Ok(())
}

/// A statistic to three decimals, or a dash.
fn number(statistic: Statistic) -> String {
    statistic.map_or_else(|_| "-".to_string(), |value| format!("{value:.3}"))
}

/// Rows printed in aligned columns, numbers to the right.
struct Columns {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Columns {
    fn new(headers: &[&str], right: &[bool], rows: Vec<Vec<String>>) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_string()).collect(),
            right: right.to_vec(),
            rows,
        }
    }

    fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(self::width(cell));
            }
        }
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (index, cell) in row.iter().enumerate() {
                let width = widths.get(index).copied().unwrap_or(0);
                let pad = " ".repeat(width.saturating_sub(self::width(cell)));
                if index > 0 {
                    line.push_str("  ");
                }
                if self.right.get(index).copied().unwrap_or(false) {
                    line.push_str(&pad);
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Columns a cell takes on a terminal: characters, less combining marks
/// (the bar of "P̄" sits on the P).
fn width(cell: &str) -> usize {
    cell.chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RatingTable> {
        read_table(
            Box::new(io::Cursor::new(text.to_string())),
            None,
            "test.csv",
        )
    }

    fn error(text: &str) -> String {
        format!("{:#}", read(text).unwrap_err())
    }

    #[test]
    fn quoted_trimmed_crlf_and_bom_inputs_read() {
        let table =
            read("\u{feff}item,rater,label\r\n c1 , ana ,\"Hate, targeted\"\r\n\r\nc1,bo,spam\r\n")
                .unwrap();
        assert_eq!(table.ratings().len(), 2);
        assert_eq!(table.label(0), Some("Hate, targeted"));
        assert_eq!(table.item_name(0), Some("c1"));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        assert_eq!(
            error("item,rater\n"),
            "line 1, column 3: the header lacks \"label\"; it must be exactly item,rater,label"
        );
        assert!(error("item,reviewer,label\n").starts_with("line 1, column 2: "));
        assert!(error("item,rater,label,extra\n").starts_with("line 1, column 4: "));
        assert!(error("").contains("empty"));
        assert_eq!(
            error("item,rater,label\nc1,ana,spam\nc2,ana\n"),
            "line 3: expected 3 fields (item,rater,label), found 2"
        );
        assert_eq!(
            error("item,rater,label\nc1,ana,spam\nc2,,spam\n"),
            "line 3, column 2: rater: is empty"
        );
        assert_eq!(
            error("item,rater,label\nc1,ana,spam\nc2,bo,spam\nc1,ana,scam\n"),
            "line 4: item \"c1\" is rated twice by rater \"ana\" (first on line 2)"
        );
        let long = format!(
            "item,rater,label\nc1,ana,{}\n",
            "x".repeat(AGREEMENT_CSV_LINE_BYTES_MAX)
        );
        assert!(
            error(&long).contains("line 2 is longer than"),
            "{}",
            error(&long)
        );
        let bytes = b"item,rater,label\nc1,ana,sp\xffam\n".to_vec();
        let invalid = read_table(Box::new(io::Cursor::new(bytes)), None, "test.csv").unwrap_err();
        assert_eq!(format!("{invalid:#}"), "line 2, column 3: not valid UTF-8");
    }

    #[test]
    fn a_line_at_the_limit_reads_and_one_byte_more_does_not() {
        let fill = |bytes: usize| {
            // item (1) + comma + rater (1) + comma + label: a line of `bytes`.
            let label = "x".repeat(bytes - 4);
            let mut reader = BoundedLines::new(io::Cursor::new(format!("i,r,{label}\nnext\n")));
            io::copy(&mut reader, &mut io::sink())
        };
        assert!(fill(AGREEMENT_CSV_LINE_BYTES_MAX).is_ok());
        assert!(fill(AGREEMENT_CSV_LINE_BYTES_MAX + 1).is_err());
    }

    #[test]
    fn help_states_the_limits() {
        use warden_domain::limits::*;
        let help = crate::cli::STATS_AGREEMENT_HELP
            .replace(',', "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for limit in [
            AGREEMENT_NAME_BYTES_MAX,
            AGREEMENT_LABEL_BYTES_MAX,
            AGREEMENT_RATINGS_MAX,
            AGREEMENT_RATERS_MAX,
            AGREEMENT_CATEGORIES_MAX,
            AGREEMENT_DISPUTED_ITEMS_MAX,
        ] {
            assert!(help.contains(&format!(" {limit} ")), "{limit}");
        }
    }

    #[test]
    fn columns_align() {
        let mut out = Vec::new();
        Columns::new(
            &["rater", "kappa"],
            &[false, true],
            vec![
                vec!["anna-long".into(), "0.400".into()],
                vec!["bo".into(), "-".into()],
                vec!["P̄".into(), "1".into()],
            ],
        )
        .write(&mut out)
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "rater      kappa\nanna-long  0.400\nbo             -\nP̄              1\n"
        );
    }
}
