//! IP addresses and ranges for `ip_in_range` and `ip_in_ranges`, as MediaWiki's `IPUtils`.
//!
//! A range is a single address, a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or an explicit
//! range (`1.2.3.4-1.2.3.9`, with at most one space on each side of the hyphen). IPv4
//! octets may have leading zeros. IPv4 addresses are never inside IPv6 ranges and vice
//! versa, and a range whose start is above its end contains nothing.

/// An address: its family and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addr {
    V4(u32),
    V6(u128),
}

fn parse_v4(s: &str) -> Option<u32> {
    let mut parts = s.split('.');
    let mut value: u32 = 0;
    for _ in 0..4 {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = p.parse().ok()?;
        // IPUtils accepts `0?[0-9]?[0-9]` below 100, so `099` but not `0100`.
        if n > 255 || (p.len() == 3 && n < 100 && !p.starts_with('0')) {
            return None;
        }
        value = (value << 8) | n;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(value)
}

fn parse_v6(s: &str) -> Option<u128> {
    if s.is_empty() || s.contains(":::") {
        return None;
    }
    let words = |part: &str| -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        part.split(':')
            .map(|w| {
                if w.is_empty() || w.len() > 4 {
                    None
                } else {
                    u16::from_str_radix(w, 16).ok()
                }
            })
            .collect()
    };
    let (head, tail) = match s.find("::") {
        Some(i) => {
            if s[i + 2..].contains("::") {
                return None;
            }
            (words(&s[..i])?, Some(words(&s[i + 2..])?))
        }
        None => (words(s)?, None),
    };
    let all: Vec<u16> = match tail {
        Some(tail) => {
            if head.len() + tail.len() > 7 {
                return None;
            }
            let mut v = head;
            v.resize(8 - tail.len(), 0);
            v.extend(tail);
            v
        }
        None => {
            if head.len() != 8 {
                return None;
            }
            head
        }
    };
    Some(
        all.iter()
            .fold(0u128, |acc, &w| (acc << 16) | u128::from(w)),
    )
}

fn parse_addr(s: &str) -> Option<Addr> {
    if let Some(v) = parse_v4(s) {
        return Some(Addr::V4(v));
    }
    parse_v6(s).map(Addr::V6)
}

/// The first and last address of a range, or `None` if the text is not a valid range.
fn parse_range(s: &str) -> Option<(Addr, Addr)> {
    if let Some((addr, prefix)) = s.split_once('/') {
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let bits: u32 = prefix.parse().ok()?;
        return match parse_addr(addr)? {
            Addr::V4(v) if bits <= 32 => {
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                Some((Addr::V4(v & mask), Addr::V4(v | !mask)))
            }
            Addr::V6(v) if bits <= 128 => {
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                Some((Addr::V6(v & mask), Addr::V6(v | !mask)))
            }
            _ => None,
        };
    }
    if let Some((a, b)) = s.split_once('-') {
        let a = a.strip_suffix(' ').unwrap_or(a);
        let b = b.strip_prefix(' ').unwrap_or(b);
        let (start, end) = (parse_addr(a)?, parse_addr(b)?);
        return match (start, end) {
            (Addr::V4(_), Addr::V4(_)) | (Addr::V6(_), Addr::V6(_)) => Some((start, end)),
            _ => None,
        };
    }
    let a = parse_addr(s)?;
    Some((a, a))
}

/// Whether `range` is a valid range or address.
pub(crate) fn is_valid_range(range: &str) -> bool {
    parse_range(range).is_some()
}

/// Whether `ip` lies in `range`; false when either is invalid.
pub(crate) fn in_range(ip: &str, range: &str) -> bool {
    let Some(addr) = parse_addr(ip.trim()) else {
        return false;
    };
    let Some((start, end)) = parse_range(range) else {
        return false;
    };
    match (addr, start, end) {
        (Addr::V4(a), Addr::V4(s), Addr::V4(e)) => s <= a && a <= e,
        (Addr::V6(a), Addr::V6(s), Addr::V6(e)) => s <= a && a <= e,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(in_range("12.34.56.78", "12.34.56.0/24"));
        assert!(in_range("1.1.1.1", "0.0.0.0/1"));
        assert!(in_range("123.123.123.123", "123.0.0.0 - 124.0.0.0"));
        assert!(!in_range("123.123.123.123", "125.0.0.0-124.0.0.0"));
        assert!(in_range(
            "2001:db8:85a3::8a2e:0370:7334",
            "2001:db8:85a3::8a2e:370:7334/113"
        ));
        assert!(!in_range("1.1.1.1", "::/0"));
        assert!(in_range("12.34.56.78", "12.1.2.255/8"));
        assert!(!in_range("1.1.1.1", "::-ffff::"));
        assert!(!is_valid_range("lol"));
        assert!(!is_valid_range("1.2.3.4/33"));
        assert!(is_valid_range("::"));
        assert!(!is_valid_range("1.2.3.4 -  1.2.3.5"));
    }
}
