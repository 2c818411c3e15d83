//! Sliding-window counters: how many events under a key (an actor, an IP, a
//! device, any expression) fell in the last window.
//!
//! Counters live in memory. The host warms them up by replaying recent
//! events after a restart. Memory is bounded: each key keeps at most
//! [`TIMES_PER_KEY_MAX`] times (counts saturate there), times older than the
//! horizon are dropped, and past [`KEYS_MAX`] keys the least recently used
//! are evicted.

use std::collections::{HashMap, VecDeque};

pub use crate::limits::WINDOW_SECONDS_MAX;

pub use crate::limits::TIMES_PER_KEY_MAX;

pub use crate::limits::KEYS_MAX;

/// Parses a window such as `30s`, `10m`, `1h`, `7d` into seconds.
pub fn parse_window(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a window such as 30s, 10m, 1h or 7d"))?;
    let seconds = match unit {
        "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a window such as 30s, 10m, 1h or 7d"
            ))
        }
    };
    if !(1..=WINDOW_SECONDS_MAX).contains(&seconds) {
        return Err(format!("{text:?} must be from 1s to 7d"));
    }
    Ok(seconds)
}

#[derive(Debug, Default)]
struct KeyTimes {
    times: VecDeque<i64>,
    last_seen: u64,
}

/// Event times per key.
#[derive(Debug, Default)]
pub struct VelocityCounters {
    keys: HashMap<String, KeyTimes>,
    clock: u64,
}

impl VelocityCounters {
    /// Counts an event at `at` under `key` (when `count_it`) and returns how
    /// many events under `key` fell within `window_seconds` up to `at`.
    pub fn observe(&mut self, key: &str, at: i64, window_seconds: i64, count_it: bool) -> i64 {
        self.clock += 1;
        if !self.keys.contains_key(key) {
            if !count_it {
                return 0;
            }
            if self.keys.len() >= KEYS_MAX {
                self.evict();
            }
            self.keys.insert(key.to_string(), KeyTimes::default());
        }
        // cannot fail: the key was inserted just above.
        let entry = self.keys.get_mut(key).expect("inserted above");
        entry.last_seen = self.clock;
        if count_it {
            // Events arrive in time order, nearly always; keep the deque sorted.
            let position = entry
                .times
                .iter()
                .rposition(|t| *t <= at)
                .map_or(0, |p| p + 1);
            entry.times.insert(position, at);
            if entry.times.len() > TIMES_PER_KEY_MAX {
                entry.times.pop_front();
            }
        }
        let horizon = entry.times.back().copied().unwrap_or(at) - WINDOW_SECONDS_MAX;
        while entry.times.front().is_some_and(|t| *t < horizon) {
            entry.times.pop_front();
        }
        let from = at - window_seconds;
        entry
            .times
            .iter()
            .rev()
            .filter(|t| **t > from && **t <= at)
            .count() as i64
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn evict(&mut self) {
        let mut ages: Vec<u64> = self.keys.values().map(|k| k.last_seen).collect();
        let cut_index = ages.len() / 100;
        let (_, cut, _) = ages.select_nth_unstable(cut_index);
        let cut = *cut;
        self.keys.retain(|_, k| k.last_seen > cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse() {
        assert_eq!(parse_window("10m"), Ok(600));
        assert_eq!(parse_window("7d"), Ok(WINDOW_SECONDS_MAX));
        assert!(parse_window("8d").is_err());
        assert!(parse_window("10").is_err());
        assert!(parse_window("m").is_err());
        assert!(parse_window("0s").is_err());
    }

    #[test]
    fn counts_slide() {
        let mut counters = VelocityCounters::default();
        for at in [0, 10, 20, 30] {
            counters.observe("ip:1", at, 60, true);
        }
        assert_eq!(counters.observe("ip:1", 40, 60, true), 5);
        assert_eq!(
            counters.observe("ip:1", 85, 60, false),
            2,
            "0, 10 and 20 left the window"
        );
        assert_eq!(counters.observe("ip:2", 85, 60, false), 0);
        assert_eq!(counters.len(), 1, "reading an unknown key stores nothing");
    }

    #[test]
    fn counts_saturate() {
        let mut counters = VelocityCounters::default();
        for at in 0..(TIMES_PER_KEY_MAX as i64 + 50) {
            counters.observe("hot", at, WINDOW_SECONDS_MAX, true);
        }
        assert_eq!(
            counters.observe(
                "hot",
                TIMES_PER_KEY_MAX as i64 + 50,
                WINDOW_SECONDS_MAX,
                false
            ),
            TIMES_PER_KEY_MAX as i64
        );
    }
}
