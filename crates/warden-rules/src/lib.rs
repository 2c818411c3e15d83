//! The AbuseFilter rule language, as Warden's detection rules use it.
