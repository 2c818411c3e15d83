//! Charts drawn on the server as SVG: a time series with target bands, a
//! bar chart and a histogram, each with a table of the same numbers.
//!
//! The console's Content-Security-Policy forbids inline styles and
//! scripts, so a chart is plain SVG markup: geometry and neutral
//! presentation attributes (`stroke="currentColor"`, `fill="none"`), and
//! classes (`chart-line`, `chart-bar`, `chart-band-ok`, ...) that the
//! console's stylesheet colours. No `style` attribute, no `<style>`, no
//! script, nothing loaded. Every chart is an image with a name for
//! assistive technology — `role="img"`, `aria-labelledby` pointing at its
//! `<title>` and `<desc>` — and comes with [`ChartTable`], the same
//! numbers as rows, which the page renders beside it (screen readers,
//! copying, printing, CSV export).
//!
//! Every text is escaped; every number drawn is finite (missing, `NaN`
//! and infinite values are gaps, shown as "no data" in the table);
//! values of any magnitude scale without overflow.
//!
//! The KPI dashboards (`dashboard.rs`) draw them.

use chrono::Duration;
use std::fmt::Write as _;

use warden_domain::kpi::{Band, Target};
use warden_domain::limits::{CHART_BARS_MAX, CHART_POINTS_MAX, CHART_TEXT_CHARS_MAX};
use warden_domain::FieldErrors;

/// The drawing's size in SVG units (it scales with the page).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
/// Room for the axes' tick labels and titles.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;
use crate::limits::X_LABELS_MAX;
/// Gridlines along the y axis, about.
const Y_TICKS: f64 = 5.0;

/// How values are written on axes and in tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// Whole things: `1,234`.
    Count,
    /// A share between 0 and 1, written as a percentage: `95.2 %`.
    Ratio,
    /// A duration in seconds, in words: `3 h 20 min`.
    Seconds,
    /// A score or any other number: `4.50`.
    Number,
}

impl ValueFormat {
    /// `value` as people read it.
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "no data".to_string();
        }
        if value.abs() >= 1e15 {
            return format!("{value:.3e}");
        }
        match self {
            ValueFormat::Count => grouped(value),
            ValueFormat::Ratio => format!("{:.1} %", value * 100.0),
            ValueFormat::Seconds => match Duration::try_seconds(value.round() as i64) {
                Some(duration) if value.abs() >= 1.0 => {
                    let sign = if value < 0.0 { "−" } else { "" };
                    format!("{sign}{}", super::text::span(duration))
                }
                _ => format!("{value:.1} s"),
            },
            ValueFormat::Number => {
                if value.fract() == 0.0 {
                    grouped(value)
                } else {
                    format!("{value:.2}")
                }
            }
        }
    }
}

/// A number rounded to a whole one, with thousands separated: `-1,234,567`.
fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0.0 && digits != "0" {
        format!("−{out}")
    } else {
        out
    }
}

/// The texts every chart carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartText {
    /// A page-unique id for the chart's title and description (letters,
    /// digits and `-`; anything else becomes `-`).
    pub id: String,
    /// The chart's name, e.g. "First-touch SLA adherence by day".
    pub title: String,
    /// What it shows, in a sentence, e.g. "Share of cases first touched
    /// within their deadline, 1–30 November; target ≥ 95 %".
    pub description: String,
    /// The x axis's name.
    pub x_label: String,
    /// The y axis's name.
    pub y_label: String,
}

impl ChartText {
    /// Checks the lengths, naming each field too long.
    fn check(&self, errors: &mut FieldErrors) {
        for (field, text) in [
            ("id", &self.id),
            ("title", &self.title),
            ("description", &self.description),
            ("x_label", &self.x_label),
            ("y_label", &self.y_label),
        ] {
            if text.chars().count() > CHART_TEXT_CHARS_MAX {
                errors.push(
                    field,
                    format!("longer than {CHART_TEXT_CHARS_MAX} characters"),
                );
            }
        }
    }

    fn safe_id(&self) -> String {
        let id: String = self
            .id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        if id.is_empty() {
            "chart".to_string()
        } else {
            format!("chart-{id}")
        }
    }
}

/// One labelled value; `None` (or a value that is not finite) is a gap.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Its label on the x axis (a day, a reviewer, a queue).
    pub label: String,
    /// Its value.
    pub value: Option<f64>,
}

impl Point {
    fn finite(&self) -> Option<f64> {
        self.value.filter(|value| value.is_finite())
    }
}

/// A chart's numbers as a table: the fallback and the CSV export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartTable {
    /// The table's caption (the chart's title).
    pub caption: String,
    /// Column headings.
    pub headers: Vec<String>,
    /// Rows of formatted cells.
    pub rows: Vec<Vec<String>>,
}

/// A time series: one point per day, week or hour, joined by a line that
/// breaks at gaps, over shaded target bands.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    text: ChartText,
    format: ValueFormat,
    points: Vec<Point>,
    target: Option<Target>,
}

impl LineChart {
    /// A line chart of `points` (at most [`CHART_POINTS_MAX`]), with the
    /// bands of `target` shaded behind it.
    pub fn new(
        text: ChartText,
        format: ValueFormat,
        points: Vec<Point>,
        target: Option<Target>,
    ) -> Result<LineChart, FieldErrors> {
        let mut errors = FieldErrors::default();
        text.check(&mut errors);
        check_labels(&points, CHART_POINTS_MAX, "points", &mut errors);
        errors.finish(|| LineChart {
            text,
            format,
            points,
            target,
        })
    }

    /// The SVG markup.
    pub fn svg(&self) -> String {
        let mut values: Vec<f64> = self.points.iter().filter_map(Point::finite).collect();
        if let Some(target) = &self.target {
            values.push(target.threshold());
        }
        let scale = Scale::around(&values, self.format);
        let mut svg = open_svg(&self.text);
        if let Some(target) = &self.target {
            for (low, high, band) in target.band_ranges(scale.low, scale.high) {
                let (top, bottom) = (scale.y(high), scale.y(low));
                let _ = write!(
                    svg,
                    r#"<rect class="chart-band chart-band-{}" x="{}" y="{}" width="{}" height="{}" fill="currentColor" fill-opacity="0.08"><title>{}</title></rect>"#,
                    band.as_str(),
                    coordinate(LEFT),
                    coordinate(top),
                    coordinate(WIDTH - LEFT - RIGHT),
                    coordinate((bottom - top).max(0.0)),
                    escape(&band_words(band, target, self.format)),
                );
            }
        }
        draw_y_axis(&mut svg, &scale, self.format);
        let slot = slot_width(self.points.len());
        let x = |index: usize| LEFT + (index as f64 + 0.5) * slot;
        let mut path = String::new();
        let mut pen_down = false;
        for (index, point) in self.points.iter().enumerate() {
            match point.finite() {
                Some(value) => {
                    let command = if pen_down { 'L' } else { 'M' };
                    let _ = write!(
                        path,
                        "{command}{} {} ",
                        coordinate(x(index)),
                        coordinate(scale.y(value))
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(
                svg,
                r#"<path class="chart-line" d="{}" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>"#,
                path.trim_end()
            );
        }
        for (index, point) in self.points.iter().enumerate() {
            if let Some(value) = point.finite() {
                let _ = write!(
                    svg,
                    r#"<circle class="chart-point" cx="{}" cy="{}" r="3" fill="currentColor"><title>{}: {}</title></circle>"#,
                    coordinate(x(index)),
                    coordinate(scale.y(value)),
                    escape(&point.label),
                    escape(&self.format.format(value)),
                );
            }
        }
        draw_x_labels(&mut svg, &self.points, slot);
        close_svg(svg, &self.text, values_present(&self.points))
    }

    /// The numbers as a table: one row per point.
    pub fn table(&self) -> ChartTable {
        point_table(&self.text, &self.points, self.format)
    }
}

/// Bars, one per labelled value (reviewers, queues, categories), from zero.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    text: ChartText,
    format: ValueFormat,
    bars: Vec<Point>,
}

impl BarChart {
    /// A bar chart of `bars` (at most [`CHART_BARS_MAX`]).
    pub fn new(
        text: ChartText,
        format: ValueFormat,
        bars: Vec<Point>,
    ) -> Result<BarChart, FieldErrors> {
        let mut errors = FieldErrors::default();
        text.check(&mut errors);
        check_labels(&bars, CHART_BARS_MAX, "bars", &mut errors);
        errors.finish(|| BarChart { text, format, bars })
    }

    /// The SVG markup.
    pub fn svg(&self) -> String {
        let values: Vec<f64> = self.bars.iter().filter_map(Point::finite).collect();
        let scale = Scale::over(&values, self.format);
        let mut svg = open_svg(&self.text);
        draw_y_axis(&mut svg, &scale, self.format);
        draw_bars(
            &mut svg,
            &scale,
            self.bars
                .iter()
                .map(|bar| (bar.label.as_str(), bar.finite())),
            self.format,
        );
        draw_x_labels(&mut svg, &self.bars, slot_width(self.bars.len()));
        close_svg(svg, &self.text, !values.is_empty())
    }

    /// The numbers as a table: one row per bar.
    pub fn table(&self) -> ChartTable {
        point_table(&self.text, &self.bars, self.format)
    }
}

/// One bin of a histogram: values in `[low, high)` (the last bin includes
/// its `high`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// Its lower edge.
    pub low: f64,
    /// Its upper edge.
    pub high: f64,
    /// Values in it.
    pub count: u64,
}

/// The distribution of values (handle times, scores) in equal-width bins
/// from the smallest value to the largest.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    text: ChartText,
    format: ValueFormat,
    bins: Vec<Bin>,
    left_out: u64,
}

impl Histogram {
    /// A histogram of `values` in `bins` bins (1 to [`CHART_BARS_MAX`]);
    /// values that are not finite are left out and counted.
    pub fn new(
        text: ChartText,
        format: ValueFormat,
        values: &[f64],
        bins: usize,
    ) -> Result<Histogram, FieldErrors> {
        let mut errors = FieldErrors::default();
        text.check(&mut errors);
        if !(1..=CHART_BARS_MAX).contains(&bins) {
            errors.push("bins", format!("must be between 1 and {CHART_BARS_MAX}"));
        }
        errors.finish(|| ())?;
        let finite: Vec<f64> = values
            .iter()
            .copied()
            .filter(|value| value.is_finite())
            .collect();
        let left_out = (values.len() - finite.len()) as u64;
        Ok(Histogram {
            text,
            format,
            bins: bin_values(&finite, bins),
            left_out,
        })
    }

    /// The bins, lowest first (none without values).
    pub fn bins(&self) -> &[Bin] {
        &self.bins
    }

    /// Values left out because they were not finite numbers.
    pub fn left_out(&self) -> u64 {
        self.left_out
    }

    /// The SVG markup.
    pub fn svg(&self) -> String {
        let counts: Vec<f64> = self.bins.iter().map(|bin| bin.count as f64).collect();
        let scale = Scale::over(&counts, ValueFormat::Count);
        let mut svg = open_svg(&self.text);
        draw_y_axis(&mut svg, &scale, ValueFormat::Count);
        let labels: Vec<Point> = self
            .bins
            .iter()
            .map(|bin| Point {
                label: self.bin_label(bin),
                value: Some(bin.count as f64),
            })
            .collect();
        draw_bars(
            &mut svg,
            &scale,
            labels
                .iter()
                .map(|point| (point.label.as_str(), point.value)),
            ValueFormat::Count,
        );
        draw_x_labels(&mut svg, &labels, slot_width(labels.len()));
        close_svg(svg, &self.text, !self.bins.is_empty())
    }

    /// The numbers as a table: one row per bin.
    pub fn table(&self) -> ChartTable {
        ChartTable {
            caption: self.text.title.clone(),
            headers: vec![self.text.x_label.clone(), self.text.y_label.clone()],
            rows: self
                .bins
                .iter()
                .map(|bin| {
                    vec![
                        self.bin_label(bin),
                        ValueFormat::Count.format(bin.count as f64),
                    ]
                })
                .collect(),
        }
    }

    fn bin_label(&self, bin: &Bin) -> String {
        format!(
            "{} – {}",
            self.format.format(bin.low),
            self.format.format(bin.high)
        )
    }
}

/// Equal-width bins from the smallest to the largest value, computed in
/// halves so that no difference of finite values overflows.
fn bin_values(values: &[f64], bins: usize) -> Vec<Bin> {
    let Some(low) = values.iter().copied().reduce(f64::min) else {
        return Vec::new();
    };
    let high = values.iter().copied().fold(low, f64::max);
    if low == high {
        return vec![Bin {
            low,
            high,
            count: values.len() as u64,
        }];
    }
    let half_width = (high / 2.0 - low / 2.0) / bins as f64;
    let edge = |index: usize| {
        if index == bins {
            high
        } else {
            2.0 * (low / 2.0 + index as f64 * half_width)
        }
    };
    let mut result: Vec<Bin> = (0..bins)
        .map(|index| Bin {
            low: edge(index),
            high: edge(index + 1),
            count: 0,
        })
        .collect();
    for &value in values {
        let position = ((value / 2.0 - low / 2.0) / half_width).floor();
        let index = if position.is_finite() && position > 0.0 {
            (position as usize).min(bins - 1)
        } else {
            0
        };
        result[index].count += 1;
    }
    result
}

fn check_labels(points: &[Point], max: usize, field: &str, errors: &mut FieldErrors) {
    if points.len() > max {
        errors.push(field, format!("more than {max} in one chart"));
    }
    for (position, point) in points.iter().enumerate() {
        if point.label.chars().count() > CHART_TEXT_CHARS_MAX {
            errors.push(
                format!("{field}[{position}].label"),
                format!("longer than {CHART_TEXT_CHARS_MAX} characters"),
            );
        }
    }
}

fn values_present(points: &[Point]) -> bool {
    points.iter().any(|point| point.finite().is_some())
}

fn point_table(text: &ChartText, points: &[Point], format: ValueFormat) -> ChartTable {
    ChartTable {
        caption: text.title.clone(),
        headers: vec![text.x_label.clone(), text.y_label.clone()],
        rows: points
            .iter()
            .map(|point| {
                let value = point
                    .finite()
                    .map_or_else(|| "no data".to_string(), |value| format.format(value));
                vec![point.label.clone(), value]
            })
            .collect(),
    }
}

fn band_words(band: Band, target: &Target, format: ValueFormat) -> String {
    let unit = match format {
        ValueFormat::Ratio => warden_domain::kpi::KpiUnit::Ratio,
        ValueFormat::Seconds => warden_domain::kpi::KpiUnit::Seconds,
        ValueFormat::Count => warden_domain::kpi::KpiUnit::Count,
        ValueFormat::Number => warden_domain::kpi::KpiUnit::Score,
    };
    format!("{} (target {})", band.as_str(), target.describe(unit))
}

/// The y axis's range and mapping to drawing units.
#[derive(Debug, Clone, Copy)]
struct Scale {
    low: f64,
    high: f64,
}

impl Scale {
    /// A range covering `values` and zero (ratios: at least 0 to 1).
    fn over(values: &[f64], format: ValueFormat) -> Scale {
        let mut low = values.iter().copied().fold(0.0f64, f64::min);
        let mut high = values.iter().copied().fold(0.0f64, f64::max);
        if format == ValueFormat::Ratio {
            low = low.min(0.0);
            high = high.max(1.0);
        }
        if low == high {
            high = low + 1.0;
        }
        Scale { low, high }
    }

    /// For a line: counts and durations from zero; ratios and other
    /// numbers zoomed to the values with a tenth of their span around them
    /// (ratios kept within 0 to 1), so that 93 % and 97 % look different.
    fn around(values: &[f64], format: ValueFormat) -> Scale {
        if matches!(format, ValueFormat::Count | ValueFormat::Seconds) || values.is_empty() {
            return Scale::over(values, format);
        }
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let half_span = high / 2.0 - low / 2.0;
        let pad = if half_span > 0.0 {
            half_span / 5.0
        } else {
            (low.abs() / 10.0).max(0.01)
        };
        // Subtracting and adding at most a fifth of half the span (or a
        // tenth of the value) stays finite but at the very ends of f64.
        let (mut low, mut high) = ((low - pad).max(-f64::MAX), (high + pad).min(f64::MAX));
        if format == ValueFormat::Ratio && low >= -pad && high <= 1.0 + pad {
            low = low.max(0.0);
            high = high.min(1.0);
        }
        if low >= high {
            return Scale::over(values, format);
        }
        Scale { low, high }
    }

    /// Half the span, which never overflows for finite ends.
    fn half_span(&self) -> f64 {
        self.high / 2.0 - self.low / 2.0
    }

    /// The drawing's y of `value`.
    fn y(&self, value: f64) -> f64 {
        let share = (value / 2.0 - self.low / 2.0) / self.half_span();
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM)
    }

    /// Round-numbered ticks across the range (1, 2 or 5 times a power of ten).
    fn ticks(&self) -> Vec<f64> {
        let raw = self.half_span() / (Y_TICKS / 2.0);
        let step = if raw.is_finite() && raw > 0.0 {
            let magnitude = 10f64.powf(raw.log10().floor());
            let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
                .into_iter()
                .find(|factor| factor * magnitude >= raw)
                .unwrap_or(10.0);
            nice * magnitude
        } else {
            self.half_span()
        };
        let first = (self.low / step).ceil();
        (0..=12)
            .map(|index| (first + index as f64) * step)
            .take_while(|tick| *tick <= self.high)
            .filter(|tick| tick.is_finite())
            .collect()
    }
}

fn slot_width(count: usize) -> f64 {
    (WIDTH - LEFT - RIGHT) / count.max(1) as f64
}

/// A coordinate with one decimal; never `NaN` or infinite.
fn coordinate(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.1}")
    } else {
        "0".to_string()
    }
}

/// Text for XML: `&`, `<`, `>`, `"` and `'` escaped; characters XML 1.0
/// cannot hold (controls but tab and line breaks) dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn open_svg(text: &ChartText) -> String {
    let id = text.safe_id();
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" font-size="11" font-family="sans-serif"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(&text.title),
        escape(&text.description),
    );
    svg
}

fn close_svg(mut svg: String, text: &ChartText, has_values: bool) -> String {
    let plot_bottom = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        r#"<line class="chart-axis" x1="{LEFT}" y1="{plot_bottom}" x2="{}" y2="{plot_bottom}" stroke="currentColor"/><line class="chart-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom}" stroke="currentColor"/>"#,
        WIDTH - RIGHT,
    );
    let _ = write!(
        svg,
        r#"<text class="chart-axis-label" x="{}" y="{}" text-anchor="middle" fill="currentColor">{}</text>"#,
        coordinate(LEFT + (WIDTH - LEFT - RIGHT) / 2.0),
        coordinate(HEIGHT - 6.0),
        escape(&text.x_label),
    );
    let _ = write!(
        svg,
        r#"<text class="chart-axis-label" x="{}" y="14" transform="rotate(-90)" text-anchor="middle" fill="currentColor">{}</text>"#,
        coordinate(-(TOP + (HEIGHT - TOP - BOTTOM) / 2.0)),
        escape(&text.y_label),
    );
    if !has_values {
        let _ = write!(
            svg,
            r#"<text class="chart-empty" x="{}" y="{}" text-anchor="middle" fill="currentColor">No data</text>"#,
            coordinate(LEFT + (WIDTH - LEFT - RIGHT) / 2.0),
            coordinate(TOP + (HEIGHT - TOP - BOTTOM) / 2.0),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn draw_y_axis(svg: &mut String, scale: &Scale, format: ValueFormat) {
    for tick in scale.ticks() {
        let y = coordinate(scale.y(tick));
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="currentColor" stroke-opacity="0.15"/><text class="chart-tick" x="{}" y="{y}" dy="0.32em" text-anchor="end" fill="currentColor">{}</text>"#,
            WIDTH - RIGHT,
            coordinate(LEFT - 6.0),
            escape(&format.format(tick)),
        );
    }
}

fn draw_bars<'a>(
    svg: &mut String,
    scale: &Scale,
    bars: impl ExactSizeIterator<Item = (&'a str, Option<f64>)>,
    format: ValueFormat,
) {
    let slot = slot_width(bars.len());
    let zero = scale.y(0.0);
    for (index, (label, value)) in bars.enumerate() {
        let Some(value) = value else {
            continue;
        };
        let y = scale.y(value);
        let (top, height) = if y <= zero {
            (y, zero - y)
        } else {
            (zero, y - zero)
        };
        let _ = write!(
            svg,
            r#"<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="currentColor"><title>{}: {}</title></rect>"#,
            coordinate(LEFT + index as f64 * slot + slot * 0.15),
            coordinate(top),
            coordinate(slot * 0.7),
            coordinate(height),
            escape(label),
            escape(&format.format(value)),
        );
    }
}

fn draw_x_labels(svg: &mut String, points: &[Point], slot: f64) {
    let every = points.len().div_ceil(X_LABELS_MAX).max(1);
    for (index, point) in points.iter().enumerate().step_by(every) {
        let label: String = point.label.chars().take(16).collect();
        let _ = write!(
            svg,
            r#"<text class="chart-tick" x="{}" y="{}" text-anchor="middle" fill="currentColor">{}</text>"#,
            coordinate(LEFT + (index as f64 + 0.5) * slot),
            coordinate(HEIGHT - BOTTOM + 16.0),
            escape(&label),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::too_many_lines)] // Tests read as whole stories.
    use super::*;
    use warden_domain::kpi::TargetDirection;

    /// A small XML checker: every tag closes in order, attributes are
    /// quoted, text and attribute values hold no raw `<` and only known
    /// entities, one root element.
    fn check_well_formed(xml: &str) -> Result<(), String> {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = xml;
        let mut roots = 0;
        let check_text = |text: &str| -> Result<(), String> {
            if text.contains('<') || text.contains('>') {
                return Err(format!("raw angle bracket in {text:?}"));
            }
            let mut pieces = text.split('&');
            pieces.next();
            for piece in pieces {
                let known = ["amp;", "lt;", "gt;", "quot;", "#39;"]
                    .iter()
                    .any(|entity| piece.starts_with(entity));
                if !known {
                    return Err(format!("bad entity in {text:?}"));
                }
            }
            Ok(())
        };
        while !rest.is_empty() {
            let Some(open) = rest.find('<') else {
                check_text(rest)?;
                break;
            };
            check_text(&rest[..open])?;
            if stack.is_empty() && !rest[..open].trim().is_empty() {
                return Err("text outside the root".into());
            }
            let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let top = stack.pop().ok_or("close without open")?;
                if top != name {
                    return Err(format!("</{name}> closes <{top}>"));
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name_end = tag.find(' ').unwrap_or(tag.len());
            let name = &tag[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("bad tag name {name:?}"));
            }
            let mut attributes = tag[name_end..].trim();
            while !attributes.is_empty() {
                let equals = attributes
                    .find("=\"")
                    .ok_or(format!("unquoted attribute in <{name}>"))?;
                let attribute = &attributes[..equals];
                if attribute.is_empty()
                    || !attribute
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(format!("bad attribute name {attribute:?}"));
                }
                let value_end = attributes[equals + 2..]
                    .find('"')
                    .ok_or("unterminated value")?
                    + equals
                    + 2;
                check_text(&attributes[equals + 2..value_end])?;
                attributes = attributes[value_end + 1..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed {stack:?}"));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(())
    }

    /// Every chart must parse, obey the CSP and carry its accessible names.
    #[track_caller]
    fn check_svg(svg: &str, id: &str) {
        if let Err(problem) = check_well_formed(svg) {
            panic!("{problem} in {svg}");
        }
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains(&format!(
            "aria-labelledby=\"chart-{id}-title chart-{id}-desc\""
        )));
        assert!(svg.contains(&format!("<title id=\"chart-{id}-title\">")));
        assert!(svg.contains(&format!("<desc id=\"chart-{id}-desc\">")));
        for forbidden in ["style", "<script", "javascript:", "href", "NaN", "inf"] {
            assert!(!svg.contains(forbidden), "{forbidden} in {svg}");
        }
    }

    fn text(id: &str) -> ChartText {
        ChartText {
            id: id.into(),
            title: "First-touch SLA adherence by day".into(),
            description: "Share of cases first touched within their deadline".into(),
            x_label: "Day".into(),
            y_label: "Adherence".into(),
        }
    }

    fn points(values: &[Option<f64>]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(index, value)| Point {
                label: format!("2026-12-{:02}", index + 1),
                value: *value,
            })
            .collect()
    }

    #[test]
    fn the_checker_refuses_broken_markup() {
        assert!(check_well_formed("<svg><g></svg>").is_err());
        assert!(check_well_formed("<svg a=b></svg>").is_err());
        assert!(check_well_formed("<svg>a & b</svg>").is_err());
        assert!(check_well_formed("<svg></svg><svg></svg>").is_err());
        assert!(check_well_formed("<svg><t a=\"x\">&amp;</t><g/></svg>").is_ok());
    }

    #[test]
    fn a_line_chart_with_target_bands_is_well_formed_and_accessible() {
        let target = Target::new(TargetDirection::AtLeast, 0.95, 0.02).unwrap();
        let chart = LineChart::new(
            text("sla"),
            ValueFormat::Ratio,
            points(&[Some(0.97), Some(0.93), None, Some(0.99), Some(0.96)]),
            Some(target),
        )
        .unwrap();
        let svg = chart.svg();
        check_svg(&svg, "sla");
        for class in [
            "chart-band-ok",
            "chart-band-watch",
            "chart-band-breach",
            "chart-line",
        ] {
            assert!(svg.contains(class), "{class}");
        }
        // The gap splits the line into two runs.
        let path_start = svg.find("class=\"chart-line\" d=\"").unwrap() + 22;
        let path = &svg[path_start..path_start + svg[path_start..].find('"').unwrap()];
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 2, "{path}");
        assert_eq!(svg.matches("<circle").count(), 4);
        let table = chart.table();
        assert_eq!(table.headers, ["Day", "Adherence"]);
        assert_eq!(table.rows[0], ["2026-12-01", "97.0 %"]);
        assert_eq!(table.rows[2], ["2026-12-03", "no data"]);
        assert_eq!(table.caption, "First-touch SLA adherence by day");
    }

    #[test]
    fn a_ratio_line_is_zoomed_to_its_values_and_the_target_and_counts_start_at_zero() {
        let scale = Scale::around(&[0.93, 0.97, 0.95], ValueFormat::Ratio);
        assert!(scale.low > 0.9 && scale.low < 0.93, "{scale:?}");
        assert!(scale.high > 0.97 && scale.high <= 1.0, "{scale:?}");
        assert!(scale.y(0.93) - scale.y(0.97) > 50.0);
        let ticks = scale.ticks();
        assert!(ticks.len() >= 3, "{ticks:?}");
        assert!(ticks
            .iter()
            .all(|tick| (scale.low..=scale.high).contains(tick)));
        let scale = Scale::around(&[40.0, 55.0], ValueFormat::Count);
        assert_eq!(scale.low, 0.0);
        let flat = Scale::around(&[0.5, 0.5], ValueFormat::Ratio);
        assert!(flat.low < 0.5 && flat.high > 0.5);
        let extreme = Scale::around(&[f64::MAX, -f64::MAX], ValueFormat::Number);
        assert!(extreme.low.is_finite() && extreme.high.is_finite());
    }

    #[test]
    fn empty_series_one_point_and_all_gaps_draw_without_failing() {
        for values in [
            vec![],
            vec![Some(5.0)],
            vec![None, None],
            vec![Some(f64::NAN), Some(f64::INFINITY), Some(f64::NEG_INFINITY)],
        ] {
            let chart =
                LineChart::new(text("one"), ValueFormat::Count, points(&values), None).unwrap();
            let svg = chart.svg();
            check_svg(&svg, "one");
            let has_value = values.iter().flatten().any(|value| value.is_finite());
            assert_eq!(svg.contains("No data"), !has_value, "{values:?}");
            assert_eq!(chart.table().rows.len(), values.len());
            let bars = BarChart::new(text("one"), ValueFormat::Count, points(&values)).unwrap();
            check_svg(&bars.svg(), "one");
        }
    }

    #[test]
    fn negative_and_huge_values_scale_without_overflow() {
        let values = [
            Some(-1e300),
            Some(f64::MAX),
            Some(-f64::MAX),
            Some(0.0),
            Some(-3.5),
            Some(1e15),
        ];
        for format in [
            ValueFormat::Count,
            ValueFormat::Number,
            ValueFormat::Seconds,
            ValueFormat::Ratio,
        ] {
            let chart = LineChart::new(text("huge"), format, points(&values), None).unwrap();
            check_svg(&chart.svg(), "huge");
            let bars = BarChart::new(text("huge"), format, points(&values)).unwrap();
            check_svg(&bars.svg(), "huge");
            let histogram = Histogram::new(
                text("huge"),
                format,
                &values.iter().flatten().copied().collect::<Vec<_>>(),
                10,
            )
            .unwrap();
            check_svg(&histogram.svg(), "huge");
            assert_eq!(histogram.bins().iter().map(|bin| bin.count).sum::<u64>(), 6);
        }
        let bars = BarChart::new(
            text("neg"),
            ValueFormat::Count,
            points(&[Some(-5.0), Some(10.0)]),
        )
        .unwrap();
        let svg = bars.svg();
        check_svg(&svg, "neg");
        assert_eq!(svg.matches("class=\"chart-bar\"").count(), 2);
        assert!(svg.contains("−5"));
    }

    #[test]
    fn every_text_is_escaped_and_ids_are_made_safe() {
        let hostile = "<script>alert('x')</script> & \"quotes\" \u{0}\u{1b}";
        let chart = BarChart::new(
            ChartText {
                id: "a\" onload=\"x".into(),
                title: hostile.into(),
                description: hostile.into(),
                x_label: hostile.into(),
                y_label: hostile.into(),
            },
            ValueFormat::Count,
            vec![Point {
                label: hostile.into(),
                value: Some(1.0),
            }],
        )
        .unwrap();
        let svg = chart.svg();
        check_svg(&svg, "a--onload--x");
        assert!(svg
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"));
        assert!(!svg.contains('\u{0}') && !svg.contains('\u{1b}'));
        // The table keeps the text as it is: the template escapes it.
        assert_eq!(chart.table().rows[0][0], hostile);
    }

    #[test]
    fn histograms_bin_values_evenly_and_count_what_they_leave_out() {
        let values = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, f64::NAN];
        let histogram = Histogram::new(text("hist"), ValueFormat::Number, &values, 5).unwrap();
        let counts: Vec<u64> = histogram.bins().iter().map(|bin| bin.count).collect();
        assert_eq!(counts, [2, 2, 2, 2, 2]);
        assert_eq!(histogram.bins()[0].low, 0.0);
        assert_eq!(histogram.bins()[4].high, 10.0);
        assert_eq!(histogram.left_out(), 1);
        let table = histogram.table();
        assert_eq!(table.rows[0], ["0 – 2", "2"]);
        check_svg(&histogram.svg(), "hist");
        let same = Histogram::new(text("same"), ValueFormat::Number, &[3.0, 3.0], 4).unwrap();
        assert_eq!(same.bins().len(), 1);
        let empty = Histogram::new(text("none"), ValueFormat::Number, &[], 4).unwrap();
        assert!(empty.bins().is_empty());
        check_svg(&empty.svg(), "none");
    }

    #[test]
    fn limits_are_refused_by_field() {
        let too_many = points(&vec![Some(1.0); CHART_POINTS_MAX + 1]);
        let refused = LineChart::new(text("x"), ValueFormat::Count, too_many, None).unwrap_err();
        assert_eq!(refused.0[0].field, "points");
        let long = ChartText {
            title: "x".repeat(CHART_TEXT_CHARS_MAX + 1),
            ..text("x")
        };
        let refused = BarChart::new(long, ValueFormat::Count, vec![]).unwrap_err();
        assert_eq!(refused.0[0].field, "title");
        let refused = Histogram::new(text("x"), ValueFormat::Count, &[1.0], 0).unwrap_err();
        assert_eq!(refused.0[0].field, "bins");
    }

    #[test]
    fn values_are_written_for_people() {
        assert_eq!(ValueFormat::Count.format(1_234_567.0), "1,234,567");
        assert_eq!(ValueFormat::Count.format(-1_234.0), "−1,234");
        assert_eq!(ValueFormat::Ratio.format(0.952), "95.2 %");
        assert_eq!(ValueFormat::Seconds.format(12_000.0), "3 h 20 min");
        assert_eq!(ValueFormat::Seconds.format(0.4), "0.4 s");
        assert_eq!(ValueFormat::Number.format(4.5), "4.50");
        assert_eq!(ValueFormat::Number.format(f64::NAN), "no data");
        assert_eq!(ValueFormat::Count.format(1e300), "1.000e300");
    }
}
