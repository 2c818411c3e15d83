//! Path segments naming something: case, action and decision ids, queue and
//! user names. A segment that cannot name anything is answered as a name
//! nothing has (`404`), the same words as for one that does not exist.

use warden_domain::ids::{ActionId, DecisionId, QueueName, UserName};
use warden_domain::CaseId;

use crate::error::{AppError, AppResult};

/// A case id from a path, or 404.
pub fn case_id(id: &str) -> AppResult<CaseId> {
    positive(id).map(CaseId).ok_or_else(|| {
        AppError::NotFound(format!(
            "case {id:?} not found: case ids are positive integers"
        ))
    })
}

/// A Warden row id (`what`: action, delivery, notice template, ...), or 404.
pub fn row_id(id: &str, what: &str) -> AppResult<i64> {
    positive(id).ok_or_else(|| {
        AppError::NotFound(format!(
            "{what} {id:?} not found: ids are positive integers"
        ))
    })
}

/// An action id from a path, or 404.
pub fn action_id(id: &str) -> AppResult<ActionId> {
    row_id(id, "action").map(ActionId)
}

/// A decision id from a path, or 404.
pub fn decision_id(id: &str) -> AppResult<DecisionId> {
    row_id(id, "decision").map(DecisionId)
}

/// A queue name from a path, or 404.
pub fn queue_name(name: &str) -> AppResult<QueueName> {
    QueueName::parse(name).map_err(|_| AppError::NotFound(format!("queue {name:?} not found")))
}

/// A user name from a path, or 404.
pub fn user_name(name: &str) -> AppResult<UserName> {
    UserName::parse(name).map_err(|_| AppError::NotFound(format!("user {name:?} not found")))
}

fn positive(id: &str) -> Option<i64> {
    id.parse::<i64>().ok().filter(|id| *id > 0)
}
