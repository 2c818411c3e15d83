//! The static cost estimate of a compiled rule: the steps its evaluation would charge on
//! event-sized input, computed from the syntax tree without evaluating it.
//!
//! The model is described in [`crate::limits::cost`]: the same rates as at run time,
//! applied to sizes estimated from the rule's text (host values assumed
//! [`ASSUMED_HOST_VALUE_BYTES`] long, literals their own length, rule variables the largest
//! value assigned to them so far), with every branch counted as if it ran. The walk visits
//! each node once, so the estimate costs time linear in the rule's size.

use crate::compile::SlotInfo;
use crate::eval::{data_bytes, work_steps};
use crate::functions::Builtin;
use crate::limits::cost::{
    ASSUMED_HOST_VALUE_BYTES, ASSUMED_MATCH_SPACING, BACKTRACK_PER_KIB, COPY_PER_KIB,
    HOST_CALL_STEPS, HOST_PER_KIB, REGEX_COMPILE_STEPS, REGEX_MATCH_STEPS, REGEX_PER_KIB,
    SEARCH_PER_KIB,
};
use crate::limits::MAX_STRING_LENGTH;
use crate::parser::{ArithOp, Callee, Kind, KwOp, Node};
use crate::pcre::Pattern;

/// The estimated cost of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostEstimate {
    /// Steps the whole rule would charge on event-sized input, every branch counted.
    pub steps: u64,
    /// The byte offset of the costliest single operation.
    pub costliest_position: usize,
    /// What that operation is (a function name, an operator).
    pub costliest: String,
    /// Its steps, not counting its arguments.
    pub costliest_steps: u64,
}

/// Estimates the cost of a tree.
pub(crate) fn estimate(root: Option<&Node>, slots: &[SlotInfo]) -> CostEstimate {
    let mut e = Estimator {
        slots,
        sizes: vec![0; slots.len()],
        total: 0,
        costliest: CostEstimate {
            steps: 0,
            costliest_position: 0,
            costliest: String::new(),
            costliest_steps: 0,
        },
    };
    if let Some(root) = root {
        e.node(root);
    }
    CostEstimate {
        steps: e.total,
        ..e.costliest
    }
}

struct Estimator<'a> {
    slots: &'a [SlotInfo],
    /// The largest value assigned so far to each rule variable, in bytes.
    sizes: Vec<usize>,
    total: u64,
    costliest: CostEstimate,
}

/// Adds sizes, capped at the longest string evaluation may produce.
fn add(a: usize, b: usize) -> usize {
    a.saturating_add(b).min(MAX_STRING_LENGTH)
}

/// The steps of a regular expression scan of `hay` bytes beyond the linear rate: the
/// backtracking engine's surcharge, or the compilation of a pattern built at run time.
fn engine_steps(pattern: Option<&Pattern>, hay: usize, pattern_bytes: usize) -> u64 {
    match pattern {
        Some(p) if p.is_backtracking() => work_steps(hay, BACKTRACK_PER_KIB - REGEX_PER_KIB),
        Some(_) => 0,
        None => REGEX_COMPILE_STEPS + work_steps(pattern_bytes, COPY_PER_KIB),
    }
}

/// The steps of the matches a scan of `hay` bytes is assumed to find.
fn match_steps(hay: usize) -> u64 {
    (hay / ASSUMED_MATCH_SPACING + 1) as u64 * REGEX_MATCH_STEPS
}

impl Estimator<'_> {
    /// Records `steps` of work done by one operation at `pos`.
    fn charge(&mut self, steps: u64, pos: u32, what: &str) {
        self.total = self.total.saturating_add(steps);
        if steps > self.costliest.costliest_steps {
            self.costliest.costliest_steps = steps;
            self.costliest.costliest_position = pos as usize;
            self.costliest.costliest = what.to_string();
        }
    }

    /// Walks a node, charging it and its children; returns the estimated size of its value.
    fn node(&mut self, node: &Node) -> usize {
        self.total = self.total.saturating_add(1);
        let pos = node.pos;
        match &node.kind {
            Kind::Const(v) => data_bytes(v),
            Kind::Var(slot) => self.var_size(*slot),
            Kind::Array(items) => items
                .iter()
                .fold(0, |size, item| add(size, self.node(item) + 1)),
            Kind::Seq(items) => items.iter().fold(0, |_, item| self.node(item)),
            Kind::Call {
                callee,
                args,
                pattern,
            } => self.call(callee, args, pattern.as_deref(), pos),
            Kind::Index { base, indices } => {
                let size = self.node(base);
                for (index, _) in indices {
                    self.node(index);
                }
                size
            }
            Kind::Neg(arg) => {
                let size = self.node(arg);
                self.charge(work_steps(size, COPY_PER_KIB), pos, "-");
                0
            }
            Kind::Not(arg) => {
                self.node(arg);
                0
            }
            Kind::Keyword {
                op,
                lhs,
                rhs,
                pattern,
            } => self.keyword(*op, (lhs, rhs), pattern.as_deref(), pos),
            Kind::Arith { first, rest } => self.arith(first, rest),
            Kind::Logic { first, rest } => {
                self.node(first);
                for (_, n) in rest {
                    self.node(n);
                }
                0
            }
            Kind::Compare { lhs, rhs, .. } => {
                let l = self.node(lhs);
                let r = self.node(rhs);
                self.charge(work_steps(l + r, COPY_PER_KIB), pos, "comparison");
                0
            }
            Kind::Cond {
                cond,
                then,
                otherwise,
            } => {
                self.node(cond);
                let a = self.node(then);
                let b = otherwise.as_ref().map_or(0, |o| self.node(o));
                a.max(b)
            }
            Kind::Assign { .. } | Kind::IndexAssign { .. } | Kind::Append { .. } => {
                self.assignment(&node.kind)
            }
        }
    }

    /// `x := v`, `x[i] := v` and `x[] := v`: the value, which also grows the variable.
    fn assignment(&mut self, kind: &Kind) -> usize {
        match kind {
            Kind::Assign { slot, value, .. } => {
                let size = self.node(value);
                self.assigned(*slot, size);
                size
            }
            Kind::IndexAssign { slot, index, value } => {
                self.node(index);
                let size = self.node(value);
                let grown = add(self.size_of(*slot), size);
                self.assigned(*slot, grown);
                size
            }
            Kind::Append { slot, value } => {
                let size = self.node(value);
                let grown = add(self.size_of(*slot), size + 1);
                self.assigned(*slot, grown);
                size
            }
            _ => 0,
        }
    }

    /// The size of a variable: as assigned, at least the assumed host value size for a
    /// host variable.
    fn var_size(&self, slot: u32) -> usize {
        let i = slot as usize;
        let assigned = self.sizes.get(i).copied().unwrap_or(0);
        if self.slots.get(i).is_some_and(|s| s.from_host) {
            assigned.max(ASSUMED_HOST_VALUE_BYTES)
        } else {
            assigned
        }
    }

    /// A call: its arguments, then the function's own work.
    fn call(
        &mut self,
        callee: &Callee,
        args: &[Node],
        pattern: Option<&Pattern>,
        pos: u32,
    ) -> usize {
        let sizes: Vec<usize> = args.iter().map(|a| self.node(a)).collect();
        match callee {
            Callee::Builtin(b) => self.builtin(*b, args, &sizes, pattern, pos),
            Callee::Host(h) => {
                let input = sizes.iter().fold(0, |a, b| add(a, *b));
                let steps = HOST_CALL_STEPS
                    + work_steps(input, HOST_PER_KIB)
                    + work_steps(ASSUMED_HOST_VALUE_BYTES, COPY_PER_KIB);
                self.charge(steps, pos, h.name());
                ASSUMED_HOST_VALUE_BYTES
            }
        }
    }

    /// `in`, `contains`, `like`, `rlike` and `irlike`: both sides, then the search.
    fn keyword(
        &mut self,
        op: KwOp,
        (lhs, rhs): (&Node, &Node),
        pattern: Option<&Pattern>,
        pos: u32,
    ) -> usize {
        let l = self.node(lhs);
        let r = self.node(rhs);
        let (steps, name) = match op {
            KwOp::In => (work_steps(l + r, SEARCH_PER_KIB), "in"),
            KwOp::Contains => (work_steps(l + r, SEARCH_PER_KIB), "contains"),
            KwOp::Like | KwOp::Rlike | KwOp::Irlike => (
                work_steps(l + r, REGEX_PER_KIB) + engine_steps(pattern, l, r),
                match op {
                    KwOp::Like => "like",
                    KwOp::Rlike => "rlike",
                    _ => "irlike",
                },
            ),
        };
        self.charge(steps, pos, name);
        0
    }

    /// A chain of `+ - * / % **`: a sum keeps growing, other results are numbers.
    fn arith(&mut self, first: &Node, rest: &[(ArithOp, Node, u32)]) -> usize {
        let mut acc = self.node(first);
        for (op, rhs, op_pos) in rest {
            let r = self.node(rhs);
            self.charge(work_steps(acc + r, COPY_PER_KIB), *op_pos, "+");
            acc = if *op == ArithOp::Add { add(acc, r) } else { 0 };
        }
        acc
    }

    fn size_of(&self, slot: u32) -> usize {
        self.sizes.get(slot as usize).copied().unwrap_or(0)
    }

    fn assigned(&mut self, slot: u32, size: usize) {
        if let Some(place) = self.sizes.get_mut(slot as usize) {
            *place = (*place).max(size);
        }
    }

    /// Charges a built-in call with arguments of estimated `sizes`; returns its result's size.
    fn builtin(
        &mut self,
        b: Builtin,
        args: &[Node],
        sizes: &[usize],
        pattern: Option<&Pattern>,
        pos: u32,
    ) -> usize {
        let size = |i: usize| sizes.get(i).copied().unwrap_or(0);
        let input = sizes.iter().fold(0, |a, s| add(a, *s));
        let mut steps = work_steps(input, b.input_rate());
        let first = size(0);
        let mut out = b
            .output_ratio()
            .map_or(0, |ratio| first.saturating_mul(ratio));
        match b {
            Builtin::ContainsAny
            | Builtin::ContainsAll
            | Builtin::CcnormContainsAny
            | Builtin::CcnormContainsAll => {
                steps += work_steps(first, SEARCH_PER_KIB) * (args.len().saturating_sub(1)) as u64;
            }
            Builtin::EqualsToAny => {
                steps += (1..args.len())
                    .map(|i| work_steps(first.min(size(i)), COPY_PER_KIB))
                    .sum::<u64>();
            }
            Builtin::Strpos => steps += work_steps(first, SEARCH_PER_KIB),
            Builtin::Rcount if args.len() == 2 => {
                let hay = size(1);
                steps += engine_steps(pattern, hay, first) + match_steps(hay);
            }
            Builtin::GetMatches => {
                let hay = size(1);
                steps += engine_steps(pattern, hay, first);
                out = hay;
            }
            Builtin::StrReplace => {
                let (search, replace) = (size(1).max(1), size(2));
                if replace > search {
                    out = first.saturating_add((first / search).saturating_mul(replace - search));
                }
            }
            Builtin::StrReplaceRegexp => {
                steps += engine_steps(pattern, first, size(1)) + match_steps(first);
                let replacement = size(2);
                out = first.saturating_add(
                    (first / ASSUMED_MATCH_SPACING + 1).saturating_mul(replacement),
                );
            }
            _ => {}
        }
        let out = out.min(MAX_STRING_LENGTH);
        steps += work_steps(out, COPY_PER_KIB);
        self.charge(steps, pos, b.name());
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::limits::MAX_STATIC_COST;
    use crate::{ErrorKind, Extensions, Rule};

    fn rule(source: &str) -> Rule {
        let mut ext = Extensions::new();
        ext.declare_variable("text").unwrap();
        Rule::compile_with(source, &ext).unwrap()
    }

    #[test]
    fn ordinary_rules_are_cheap() {
        let estimate =
            rule(r#"text irlike "casino|viagra" & lcase(text) contains "free""#).estimated_cost();
        assert!(estimate.steps > 0);
        assert!(estimate.steps < MAX_STATIC_COST / 20, "{estimate:?}");
        assert!(rule("1 + 2 == 3").estimated_cost().steps < 20);
    }

    #[test]
    fn the_costliest_call_is_named_with_its_position() {
        let source = r#"lcase("a") == "a" & ccnorm(text) contains "x""#;
        let estimate = rule(source).estimated_cost();
        assert_eq!(estimate.costliest, "ccnorm");
        assert_eq!(estimate.costliest_position, source.find("ccnorm").unwrap());
    }

    #[test]
    fn many_calls_over_event_sized_input_are_refused() {
        // One regular expression replacement over an event-sized value is fine; enough of
        // them to pass the budget on such input are refused, at the costliest one.
        let one = rule(r#"str_replace_regexp(text, "a", "b") == """#);
        assert!(one.check_cost(MAX_STATIC_COST).is_ok());
        let calls = (0..999)
            .map(|_| r#"x := str_replace_regexp(text, "a", "b");"#)
            .collect::<String>();
        let many = rule(&calls);
        let error = many.check_cost(MAX_STATIC_COST).unwrap_err();
        assert_eq!(error.kind, ErrorKind::CostTooHigh);
        assert!(error.detail.contains("str_replace_regexp"), "{error}");
        assert!(error.detail.contains("steps"), "{error}");
    }

    #[test]
    fn growing_strings_are_followed_through_variables() {
        // Doubling a string 23 times reaches 8 MiB; every later use of it is costly.
        let mut source = String::from("s := 'aaaaaaaa'; ");
        for _ in 0..20 {
            source.push_str("s := s + s; ");
        }
        let built = rule(&source);
        let with_use = rule(&format!("{source} lcase(s) == ''"));
        assert!(with_use.estimated_cost().steps > built.estimated_cost().steps + 1_000_000);
        let replaced = rule(&format!(
            "{source} {}",
            (0..50)
                .map(|_| "s := str_replace_regexp(s, 'a', 'b');")
                .collect::<String>()
        ));
        assert_eq!(
            replaced.check_cost(MAX_STATIC_COST).unwrap_err().kind,
            ErrorKind::CostTooHigh
        );
    }

    #[test]
    fn backtracking_patterns_and_runtime_patterns_cost_more() {
        let linear = rule(r#"text rlike "ab+c""#).estimated_cost().steps;
        let backtracking = rule(r#"text rlike "a(?=b)""#).estimated_cost().steps;
        let runtime = rule(r#"text rlike ("a" + "b" + text)"#)
            .estimated_cost()
            .steps;
        assert!(backtracking > linear * 4, "{backtracking} vs {linear}");
        assert!(runtime > linear, "{runtime} vs {linear}");
    }

    #[test]
    fn branches_are_all_counted() {
        let one = rule("if text == '' then lcase(text) else '' end")
            .estimated_cost()
            .steps;
        let both = rule("if text == '' then lcase(text) else ucase(text) end")
            .estimated_cost()
            .steps;
        assert!(both > one + 1000, "{both} vs {one}");
    }
}
