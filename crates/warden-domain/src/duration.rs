//! ISO 8601 durations for actions (`P7D`, `PT12H`, `P2W`, `P1Y2M`).
//!
//! Calendar units are fixed lengths, as enforcement policies count them: a
//! month is 30 days and a year 365 days. Fractions are accepted only on the
//! last (smallest) unit given, seconds included.

use chrono::Duration;

use crate::limits::ACTION_DURATION_SECONDS_MAX;

/// Parses an ISO 8601 duration into seconds, refusing zero, negative and
/// over-long durations.
pub fn parse_iso8601_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not an ISO 8601 duration such as P7D, PT12H, P2W or P1M");
    let rest = text.strip_prefix('P').ok_or_else(bad)?;
    if rest.is_empty() || text.len() > 64 {
        return Err(bad());
    }
    let mut seconds: f64 = 0.0;
    let mut in_time = false;
    let mut number = String::new();
    let mut saw_unit = false;
    let mut saw_fraction = false;
    let mut time_units = 0;
    for c in rest.chars() {
        match c {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' => number.push(c),
            '.' | ',' if !number.is_empty() && !number.contains('.') => number.push('.'),
            unit => {
                if number.is_empty() || saw_fraction {
                    return Err(bad());
                }
                let value: f64 = number.parse().map_err(|_| bad())?;
                saw_fraction = number.contains('.');
                let unit_seconds = match (in_time, unit) {
                    (false, 'Y') => 365.0 * 86_400.0,
                    (false, 'M') => 30.0 * 86_400.0,
                    (false, 'W') => 7.0 * 86_400.0,
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return Err(bad()),
                };
                seconds += value * unit_seconds;
                if in_time {
                    time_units += 1;
                }
                number.clear();
                saw_unit = true;
            }
        }
    }
    if !number.is_empty() || !saw_unit || (in_time && time_units == 0) {
        return Err(bad());
    }
    if seconds < 1.0 {
        return Err(format!("{text:?} is shorter than one second"));
    }
    if seconds > ACTION_DURATION_SECONDS_MAX as f64 {
        return Err(format!("{text:?} is longer than the ten years allowed"));
    }
    Ok(Duration::seconds(seconds.round() as i64))
}

/// Writes seconds back as a compact ISO 8601 duration (`P7D`, `PT90M` → `PT1H30M`).
pub fn format_iso8601_duration(duration: Duration) -> String {
    let mut seconds = duration.num_seconds().max(0);
    let days = seconds / 86_400;
    seconds %= 86_400;
    let hours = seconds / 3_600;
    seconds %= 3_600;
    let minutes = seconds / 60;
    seconds %= 60;
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || seconds > 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 {
            out.push_str(&format!("{seconds}S"));
        }
    }
    if out == "P" {
        out.push_str("T0S");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_iso8601_duration("P7D").unwrap(), Duration::days(7));
        assert_eq!(
            parse_iso8601_duration("PT12H").unwrap(),
            Duration::hours(12)
        );
        assert_eq!(parse_iso8601_duration("P2W").unwrap(), Duration::days(14));
        assert_eq!(parse_iso8601_duration("P1M").unwrap(), Duration::days(30));
        assert_eq!(
            parse_iso8601_duration("P1DT2H30M").unwrap(),
            Duration::minutes(24 * 60 + 150)
        );
        assert_eq!(
            parse_iso8601_duration("PT1.5H").unwrap(),
            Duration::minutes(90)
        );
    }

    #[test]
    fn refuses_bad_forms() {
        for bad in [
            "", "P", "7D", "PT", "P1H", "PTD", "P1.5D2H", "P-1D", "PT0S", "P11Y", "P1DT",
        ] {
            assert!(parse_iso8601_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["P7D", "PT1H30M", "P1DT1S"] {
            assert_eq!(
                format_iso8601_duration(parse_iso8601_duration(text).unwrap()),
                text
            );
        }
    }
}
