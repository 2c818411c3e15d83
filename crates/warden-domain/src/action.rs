//! The life of an action after its decision, and of each delivery that
//! carries it to the platform: statuses and the tables of allowed
//! transitions between them, as `case.rs` has for cases.
//!
//! An action starts `pending` (standard: its delivery is queued at once) or
//! `pending_approval` (non-standard: it waits for a lead). The outbox moves
//! it on as its webhook is delivered, confirmed, lifted or fails; a lead
//! may reverse it while it is in force. Stored statuses are read with
//! [`FromStr`]: an unknown value is an error, never a default.

use std::fmt;
use std::str::FromStr;

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionStatus {
    /// Non-standard: waits for a lead's approval; nothing was sent.
    PendingApproval,
    /// A lead refused it (or its decision was reversed while it waited); never sent.
    Rejected,
    /// In force, waiting to be delivered.
    Pending,
    /// The platform accepted the webhook.
    Delivered,
    /// The platform confirmed it applied the action.
    Applied,
    /// Delivery failed for good, or the platform reported failure.
    Failed,
    /// A temporary action ended and was lifted.
    Expired,
    /// Reversed by a lead (or superseded by a correction).
    Reversed,
}

impl ActionStatus {
    /// Every status.
    pub const ALL: [ActionStatus; 8] = [
        ActionStatus::PendingApproval,
        ActionStatus::Rejected,
        ActionStatus::Pending,
        ActionStatus::Delivered,
        ActionStatus::Applied,
        ActionStatus::Failed,
        ActionStatus::Expired,
        ActionStatus::Reversed,
    ];

    /// The wire and storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionStatus::PendingApproval => "pending_approval",
            ActionStatus::Rejected => "rejected",
            ActionStatus::Pending => "pending",
            ActionStatus::Delivered => "delivered",
            ActionStatus::Applied => "applied",
            ActionStatus::Failed => "failed",
            ActionStatus::Expired => "expired",
            ActionStatus::Reversed => "reversed",
        }
    }

    /// Whether the action was (or is about to be) sent, so that a reversal
    /// must undo it: everything but waiting, rejected and reversed.
    pub fn is_in_force(self) -> bool {
        matches!(
            self,
            ActionStatus::Pending
                | ActionStatus::Delivered
                | ActionStatus::Applied
                | ActionStatus::Failed
                | ActionStatus::Expired
        )
    }

    /// Whether the action restricts the user now, for a statement of
    /// reasons: sent or about to be, and neither failed nor ended.
    pub fn is_effective(self) -> bool {
        matches!(
            self,
            ActionStatus::Pending | ActionStatus::Delivered | ActionStatus::Applied
        )
    }

    /// Whether the table of allowed transitions lets an action go from
    /// `self` to `to`.
    pub fn can_become(self, to: ActionStatus) -> bool {
        use ActionStatus::*;
        matches!(
            (self, to),
            (PendingApproval, Pending | Rejected)
                | (Pending, Delivered | Applied | Failed | Expired | Reversed)
                | (Delivered, Applied | Failed | Expired | Reversed)
                | (Applied, Failed | Expired | Reversed)
                | (Failed, Pending | Applied | Expired | Reversed)
                | (Expired, Reversed)
        )
    }
}

impl FromStr for ActionStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        ActionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown action status {value:?}"))
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ActionStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ActionStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Where one outbox row (a delivery) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting until it is due.
    Pending,
    /// Leased to a worker until its lease ends.
    Sending,
    /// The platform answered 2xx.
    Delivered,
    /// The platform confirmed the effect by callback.
    Confirmed,
    /// The platform reported by callback that it could not apply it.
    Failed,
    /// Every attempt failed: a dead letter, waiting for a replay.
    Dead,
    /// No longer needed (a reversal overtook it); never to be sent.
    Cancelled,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 7] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Sending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Confirmed,
        DeliveryStatus::Failed,
        DeliveryStatus::Dead,
        DeliveryStatus::Cancelled,
    ];

    /// The wire and storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Confirmed => "confirmed",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// Whether a dead or failed delivery may be sent again.
    pub fn can_replay(self) -> bool {
        matches!(self, DeliveryStatus::Dead | DeliveryStatus::Failed)
    }

    /// Whether the table of allowed transitions lets a delivery go from
    /// `self` to `to`. The platform's callback may confirm or fail any
    /// delivery that was not cancelled (it may answer late, or change its
    /// mind); only pending and failed or dead rows are (re)sent.
    pub fn can_become(self, to: DeliveryStatus) -> bool {
        use DeliveryStatus::*;
        match (self, to) {
            (Cancelled, _) => false,
            (_, Confirmed | Failed) => self != to,
            (Pending, Sending | Delivered | Dead | Cancelled) => true,
            (Sending, Sending | Pending | Delivered | Dead) => true,
            (Failed | Dead, Pending) => true,
            _ => false,
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown delivery status {value:?}"))
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for DeliveryStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for DeliveryStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_ones_are_refused() {
        for status in ActionStatus::ALL {
            assert_eq!(status.as_str().parse::<ActionStatus>(), Ok(status));
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(status));
        }
        assert!("Pending".parse::<ActionStatus>().is_err());
        assert!("".parse::<DeliveryStatus>().is_err());
        assert!("queued".parse::<DeliveryStatus>().is_err());
    }

    #[test]
    fn the_action_table() {
        use ActionStatus::*;
        assert!(PendingApproval.can_become(Pending));
        assert!(PendingApproval.can_become(Rejected));
        assert!(!PendingApproval.can_become(Reversed), "reject what waits");
        assert!(Failed.can_become(Pending), "a replay");
        for terminal in [Rejected, Reversed] {
            assert!(ActionStatus::ALL.iter().all(|to| !terminal.can_become(*to)));
        }
        // What is in force can be reversed, and only that.
        for status in ActionStatus::ALL {
            assert_eq!(
                status.is_in_force(),
                status.can_become(Reversed),
                "{status}"
            );
        }
    }

    #[test]
    fn the_delivery_table() {
        use DeliveryStatus::*;
        assert!(Pending.can_become(Cancelled));
        assert!(!Sending.can_become(Cancelled), "a row in flight may arrive");
        assert!(
            Dead.can_become(Confirmed),
            "a dead letter may have arrived after all"
        );
        assert!(DeliveryStatus::ALL
            .iter()
            .all(|to| !Cancelled.can_become(*to)));
        for status in DeliveryStatus::ALL {
            assert_eq!(
                status.can_replay(),
                status.can_become(Pending) && status != Sending
            );
        }
    }
}
