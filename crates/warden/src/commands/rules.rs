//! `warden rules ...`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result};

use warden_rules::limits::MAX_RULE_LENGTH;
use warden_rules::{EvalContext, NoVariables, Rule, Value};

use crate::cli::RulesCommand;

/// Runs a rules command.
pub fn run(command: RulesCommand) -> Result<ExitCode> {
    let RulesCommand::Eval { expression } = command;
    let source = if expression == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_RULE_LENGTH as u64 + 1)
            .read_to_string(&mut text)
            .context("cannot read the rule from standard input")?;
        text
    } else {
        expression
    };
    let result = Rule::compile(source.trim())
        .and_then(|rule| rule.evaluate(&NoVariables, &mut EvalContext::new()));
    match result {
        Ok(value) => {
            println!("{}", literal(&value));
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(2))
        }
    }
}

/// A value written as a rule literal would write it: `true`, `7`, `"text"`, `[1, "a"]`.
fn literal(value: &Value) -> String {
    match value {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(_) | Value::Float(_) => value.to_string(),
        Value::Str(text) => format!("{:?}", &**text),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_literals() {
        let eval = |source: &str| {
            literal(
                &Rule::compile(source)
                    .unwrap()
                    .evaluate(&NoVariables, &mut EvalContext::new())
                    .unwrap(),
            )
        };
        assert_eq!(eval("1 + 2 * 3"), "7");
        assert_eq!(eval("'a' in 'cat'"), "true");
        assert_eq!(eval("[1, 'b', null]"), "[1, \"b\", null]");
        assert_eq!(eval("lcase('ABC')"), "\"abc\"");
    }
}
