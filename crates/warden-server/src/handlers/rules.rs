//! Detection rules: what runs, at which version, how often it hits, and how
//! it is doing under its time limits (errors by kind, automatic disabling).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::error::AppResult;
use crate::AppState;

/// The window of `hits_7d` and `acted_7d`.
const RULE_STATS_DAYS: i64 = 7;

/// `GET /api/v1/rules`.
pub async fn list(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let (stats, cursor) = state.app.rule_activity(RULE_STATS_DAYS).await?;
    let Some(detection) = &state.detection else {
        return Ok(Json(
            json!({"enabled": false, "rules": [], "errors": [], "features": []}),
        ));
    };
    let status = detection.status();
    let mut rules = detection.rules_json();
    if let Value::Array(items) = &mut rules {
        for rule in items.iter_mut() {
            let stat = stats
                .iter()
                .find(|s| Some(s.rule_id.as_str()) == rule["id"].as_str());
            rule["hits_7d"] = json!(stat.map_or(0, |s| s.hits));
            rule["acted_7d"] = json!(stat.map_or(0, |s| s.acted));
        }
    }
    Ok(Json(json!({
        "enabled": true,
        "rules": rules,
        "errors": status.errors,
        "limits": detection.limits_json(),
        "features": detection.features_json(),
        "cursor": cursor,
    })))
}
