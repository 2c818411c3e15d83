//! The static checks run after parsing, equivalent to AbuseFilter's `SyntaxChecker` in its
//! conservative mode, plus regular expression pre-compilation and the tree depth limit.
//!
//! Variables are checked in evaluation order. A variable may be read once an assignment to
//! it has been seen on some path: after `if c then (x := 1) end`, `x` is known even though
//! the branch may be skipped at run time, in which case reading it yields
//! [`crate::Value::Undefined`]. Host variables may be read but not assigned; function and
//! keyword names may be neither.

use std::sync::Arc;

use crate::error::{ErrorKind, Result, RuleError};
use crate::functions::Builtin;
use crate::limits::MAX_AST_DEPTH;
use crate::parser::{ArithOp, Callee, CmpOp, Kind, KwOp, Node, Slots};
use crate::pcre::Pattern;
use crate::value::Value;
use crate::vars::{Extensions, VarType};

/// What the evaluator needs to know about a variable slot.
#[derive(Debug, Clone)]
pub(crate) struct SlotInfo {
    /// The lowercase name.
    pub name: Arc<str>,
    /// Whether the value is looked up in the host when the rule has not assigned it.
    pub from_host: bool,
    /// The host's index of a declared variable, to look it up without its name.
    pub host_index: Option<u32>,
    /// Whether the host declared this variable (so the rule may not assign it).
    pub declared: bool,
    /// Whether a value read from the host is kept for later reads; false when the rule
    /// reads the variable only once, which saves a copy.
    pub cache: bool,
    /// How many places read the variable.
    reads: u32,
}

/// Checks the tree, compiles literal patterns in place and describes the slots.
pub(crate) fn check(
    root: Option<&mut Node>,
    slots: &Slots,
    ext: &Extensions,
) -> Result<Vec<SlotInfo>> {
    let mut infos: Vec<SlotInfo> = slots
        .names
        .iter()
        .map(|name| {
            let declared = ext.is_variable(name);
            SlotInfo {
                name: name.clone(),
                from_host: declared,
                host_index: ext.variable_index(name),
                declared,
                cache: true,
                reads: 0,
            }
        })
        .collect();
    let mut checker = Checker {
        ext,
        bound: vec![false; infos.len()],
        infos: &mut infos,
    };
    if let Some(root) = root {
        checker.node(root, 0)?;
    }
    for info in &mut infos {
        info.cache = info.reads > 1;
    }
    Ok(infos)
}

struct Checker<'a> {
    ext: &'a Extensions,
    bound: Vec<bool>,
    infos: &'a mut Vec<SlotInfo>,
}

impl Checker<'_> {
    fn read(&mut self, slot: u32, pos: u32) -> Result<()> {
        let i = slot as usize;
        let Some(info) = self.infos.get_mut(i) else {
            return Ok(());
        };
        info.reads += 1;
        if info.declared || self.bound.get(i).copied().unwrap_or(false) {
            return Ok(());
        }
        if self.ext.is_reserved_name(&info.name) {
            return Err(RuleError::new(
                ErrorKind::ReservedIdentifier,
                pos as usize,
                format!("'{}' is a function or keyword, not a variable", info.name),
            ));
        }
        if let Some(closest) = self.ext.undeclared_path(&info.name) {
            let hint = closest.map_or(String::new(), |p| format!("; did you mean '{p}'?"));
            return Err(RuleError::new(
                ErrorKind::UnknownVariable,
                pos as usize,
                format!(
                    "unknown field '{}': the pack declares the fields it reads under {}{hint}",
                    info.name,
                    self.ext.root_of(&info.name).unwrap_or_default()
                ),
            ));
        }
        if self.ext.unknown_variables_allowed() {
            info.from_host = true;
            return Ok(());
        }
        Err(RuleError::new(
            ErrorKind::UnknownVariable,
            pos as usize,
            format!("unknown variable '{}'", info.name),
        ))
    }

    fn assign(&mut self, slot: u32, pos: u32) -> Result<()> {
        let i = slot as usize;
        let Some(info) = self.infos.get(i) else {
            return Ok(());
        };
        if info.declared || self.ext.is_reserved_name(&info.name) {
            return Err(RuleError::new(
                ErrorKind::OverrideBuiltin,
                pos as usize,
                format!("cannot assign to built-in name '{}'", info.name),
            ));
        }
        if let Some(b) = self.bound.get_mut(i) {
            *b = true;
        }
        Ok(())
    }

    /// The declared type of a host variable node, with its name.
    fn declared(&self, node: &Node) -> Option<(VarType, &str)> {
        let Kind::Var(slot) = node.kind else {
            return None;
        };
        let info = self.infos.get(slot as usize)?;
        if !info.declared || self.bound.get(slot as usize).copied().unwrap_or(false) {
            return None;
        }
        Some((self.ext.variable_type(&info.name)?, &info.name))
    }

    /// Fails when a declared variable is used as a type it cannot be.
    fn check_types(&self, node: &Node) -> Result<()> {
        match &node.kind {
            Kind::Compare { op, lhs, rhs } => self.check_compare(*op, lhs, rhs, node.pos),
            Kind::Keyword { op, lhs, rhs, .. } => {
                let text = match op {
                    KwOp::In => rhs,
                    _ => lhs,
                };
                if let Some((ty @ (VarType::Number | VarType::Bool), name)) = self.declared(text) {
                    return mismatch(name, ty, "it is not text to search", node.pos);
                }
                Ok(())
            }
            Kind::Arith { first, rest } => self.check_arith(first, rest),
            Kind::Call {
                callee: Callee::Builtin(b),
                args,
                ..
            } => {
                for i in text_arguments(*b, args.len()) {
                    if let Some((ty @ (VarType::Number | VarType::Bool), name)) =
                        args.get(i).and_then(|a| self.declared(a))
                    {
                        return mismatch(
                            name,
                            ty,
                            &format!("{}() expects text", b.name()),
                            node.pos,
                        );
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A declared variable compared with a value of an incompatible type.
    fn check_compare(&self, op: CmpOp, lhs: &Node, rhs: &Node, pos: u32) -> Result<()> {
        for (a, b) in [(lhs, rhs), (rhs, lhs)] {
            let Some((ty, name)) = self.declared(a) else {
                continue;
            };
            let other = self.static_type(b);
            let ordering = !matches!(
                op,
                CmpOp::Eq | CmpOp::Ne | CmpOp::StrictEq | CmpOp::StrictNe
            );
            if let Some(other) = other.filter(|o| !compatible(ty, *o, b, ordering)) {
                return mismatch(
                    name,
                    ty,
                    &format!("comparing it with a {} makes no sense", other.as_str()),
                    pos,
                );
            }
        }
        Ok(())
    }

    /// A declared non-number computed with: an operand next to an operator
    /// other than `+`.
    fn check_arith(&self, first: &Node, rest: &[(ArithOp, Node, u32)]) -> Result<()> {
        let operands: Vec<(&Node, u32)> = std::iter::once((first, first.pos))
            .chain(rest.iter().map(|(_, n, pos)| (n, *pos)))
            .collect();
        let arithmetic = |i: usize| {
            let before = i.checked_sub(1).and_then(|j| rest.get(j));
            let after = rest.get(i);
            [before, after]
                .into_iter()
                .flatten()
                .any(|(op, _, _)| *op != ArithOp::Add)
        };
        for (i, (operand, pos)) in operands.into_iter().enumerate() {
            if !arithmetic(i) {
                continue;
            }
            if let Some((ty @ (VarType::String | VarType::Bool | VarType::Array), name)) =
                self.declared(operand)
            {
                return mismatch(name, ty, "it is not a number to compute with", pos);
            }
        }
        Ok(())
    }

    /// The type of a node's value when it is known without evaluating it.
    fn static_type(&self, node: &Node) -> Option<VarType> {
        if let Some((ty, _)) = self.declared(node) {
            return Some(ty);
        }
        match &node.kind {
            Kind::Const(Value::Str(_)) => Some(VarType::String),
            Kind::Const(Value::Int(_) | Value::Float(_)) => Some(VarType::Number),
            Kind::Const(Value::Bool(_)) => Some(VarType::Bool),
            Kind::Const(Value::Array(_)) | Kind::Array(_) => Some(VarType::Array),
            _ => None,
        }
    }

    fn node(&mut self, node: &mut Node, depth: usize) -> Result<()> {
        check_depth(node, depth)?;
        let d = depth + 1;
        let pos = node.pos;
        match &mut node.kind {
            Kind::Const(_) => {}
            Kind::Var(slot) => self.read(*slot, pos)?,
            Kind::Array(items) | Kind::Seq(items) => {
                for item in items {
                    self.node(item, d)?;
                }
            }
            Kind::Call {
                callee,
                args,
                pattern,
            } => {
                for arg in args.iter_mut() {
                    self.node(arg, d)?;
                }
                if let Some(compiled) = call_pattern(callee, args, pos)? {
                    *pattern = Some(compiled);
                }
            }
            Kind::Index { base, indices } => {
                self.node(base, d)?;
                for (index, _) in indices {
                    self.node(index, d)?;
                }
            }
            Kind::Neg(arg) | Kind::Not(arg) => self.node(arg, d)?,
            Kind::Keyword {
                op,
                lhs,
                rhs,
                pattern,
            } => {
                self.node(lhs, d)?;
                self.node(rhs, d)?;
                keyword_pattern(*op, rhs, pattern, pos)?;
            }
            Kind::Arith { first, rest } => {
                self.node(first, d)?;
                for (_, n, _) in rest {
                    self.node(n, d)?;
                }
            }
            Kind::Logic { first, rest } => {
                // `a & b` binds what `b` binds on the path where `b` runs, which includes
                // everything `a` binds, so a sequential walk gives the same result as
                // upstream's branch union.
                self.node(first, d)?;
                for (_, n) in rest {
                    self.node(n, d)?;
                }
            }
            Kind::Compare { lhs, rhs, .. } => {
                self.node(lhs, d)?;
                self.node(rhs, d)?;
            }
            Kind::Cond {
                cond,
                then,
                otherwise,
            } => self.cond(cond, then, otherwise.as_deref_mut(), d)?,
            Kind::Assign { .. } | Kind::IndexAssign { .. } | Kind::Append { .. } => {
                self.assignment(&mut node.kind, pos, d)?;
            }
        }
        self.check_types(node)?;
        fold_constants(node);
        Ok(())
    }

    /// `x := v`, `x[i] := v` and `x[] := v`: the last two read `x` first.
    fn assignment(&mut self, kind: &mut Kind, pos: u32, depth: usize) -> Result<()> {
        match kind {
            Kind::Assign { slot, value, .. } => {
                let slot = *slot;
                self.node(value, depth)?;
                self.assign(slot, pos)
            }
            Kind::IndexAssign { slot, index, value } => {
                let slot = *slot;
                self.read(slot, pos)?;
                self.node(index, depth)?;
                self.node(value, depth)?;
                self.assign(slot, pos)
            }
            Kind::Append { slot, value } => {
                let slot = *slot;
                self.read(slot, pos)?;
                self.node(value, depth)?;
                self.assign(slot, pos)
            }
            _ => Ok(()),
        }
    }

    /// `if cond then a else b end`: a variable is bound after it when either
    /// branch binds it.
    fn cond(
        &mut self,
        cond: &mut Node,
        then: &mut Node,
        otherwise: Option<&mut Node>,
        depth: usize,
    ) -> Result<()> {
        self.node(cond, depth)?;
        let before = self.bound.clone();
        self.node(then, depth)?;
        let after_then = std::mem::replace(&mut self.bound, before);
        if let Some(otherwise) = otherwise {
            self.node(otherwise, depth)?;
        }
        for (b, t) in self.bound.iter_mut().zip(after_then) {
            *b |= t;
        }
        Ok(())
    }
}

/// Refuses a node deeper than [`MAX_AST_DEPTH`].
fn check_depth(node: &Node, depth: usize) -> Result<()> {
    if depth > MAX_AST_DEPTH {
        return Err(RuleError::new(
            ErrorKind::NestingTooDeep,
            node.pos as usize,
            format!("the syntax tree is deeper than {MAX_AST_DEPTH} levels"),
        ));
    }
    Ok(())
}

/// The compiled pattern of a built-in call whose pattern argument is a string literal.
fn call_pattern(callee: &Callee, args: &[Node], pos: u32) -> Result<Option<Arc<Pattern>>> {
    let Callee::Builtin(b) = callee else {
        return Ok(None);
    };
    let Some(i) = b.pattern_arg(args.len()) else {
        return Ok(None);
    };
    match args.get(i) {
        Some(Node {
            kind: Kind::Const(Value::Str(source)),
            ..
        }) => compile_literal(source, false, pos).map(Some),
        _ => Ok(None),
    }
}

/// Compiles the literal pattern of `rlike`, `irlike` and `like` into `pattern`.
fn keyword_pattern(
    op: KwOp,
    rhs: &Node,
    pattern: &mut Option<Arc<Pattern>>,
    pos: u32,
) -> Result<()> {
    if let Kind::Const(Value::Str(source)) = &rhs.kind {
        match op {
            KwOp::Rlike => *pattern = Some(compile_literal(source, false, pos)?),
            KwOp::Irlike => *pattern = Some(compile_literal(source, true, pos)?),
            // A glob that does not compile never matches; it is retried at run
            // time and cached there.
            KwOp::Like => *pattern = Pattern::compile_glob(source).ok().map(Arc::new),
            KwOp::In | KwOp::Contains => {}
        }
    }
    Ok(())
}

/// Whether a value of declared type `declared` can meaningfully be compared with `other`,
/// the static type of `other_node`.
fn compatible(declared: VarType, other: VarType, other_node: &Node, ordering: bool) -> bool {
    use VarType::*;
    match (declared, other) {
        (a, b) if a == b => !(ordering && a == Array),
        // A numeric string compares as a number.
        (Number, String) => matches!(
            &other_node.kind,
            Kind::Const(Value::Str(s)) if crate::value::str_is_numeric(s)
        ),
        // Booleans compare loosely with 0 and 1.
        (Bool, Number) => matches!(&other_node.kind, Kind::Const(Value::Int(0 | 1))) && !ordering,
        _ => false,
    }
}

/// The error of a declared variable used as a type it cannot be.
fn mismatch(name: &str, ty: VarType, what: &str, pos: u32) -> Result<()> {
    Err(RuleError::new(
        ErrorKind::TypeMismatch,
        pos as usize,
        format!("'{name}' is declared {}; {what}", ty.as_str()),
    ))
}

/// The arguments of a built-in function that it reads as text.
fn text_arguments(b: Builtin, argc: usize) -> std::ops::Range<usize> {
    use Builtin::*;
    match b {
        Lcase | Ucase | Norm | Ccnorm | Specialratio | Rmspecials | Rmdoubles | Rmwhitespace
        | Rescape | Sanitize | Substr | Strpos | StrReplace | StrReplaceRegexp
        | CcnormContainsAny | CcnormContainsAll => 0..1,
        GetMatches => 1..2,
        Rcount | Count if argc == 2 => 1..2,
        _ => 0..0,
    }
}

/// Replaces arithmetic, negation and boolean inversion of constants by their value. Nodes
/// whose evaluation would fail are kept, so the error still happens at run time, and
/// nothing that consumes conditions is folded.
fn fold_constants(node: &mut Node) {
    let folded = match &node.kind {
        Kind::Neg(arg) => match &arg.kind {
            Kind::Const(v) => Some(crate::eval::negate(v.clone())),
            _ => None,
        },
        Kind::Not(arg) => match &arg.kind {
            Kind::Const(v) => Some(Value::Bool(!v.to_bool())),
            _ => None,
        },
        Kind::Arith { first, rest } => {
            let mut acc = match &first.kind {
                Kind::Const(v) => Some(v.clone()),
                _ => None,
            };
            for (op, n, pos) in rest {
                acc = match (acc, &n.kind) {
                    (Some(a), Kind::Const(b)) => crate::eval::arith(*op, a, b.clone(), *pos).ok(),
                    _ => None,
                };
            }
            acc
        }
        _ => None,
    };
    if let Some(v) = folded {
        node.kind = Kind::Const(v);
    }
}

fn compile_literal(source: &str, insensitive: bool, pos: u32) -> Result<Arc<Pattern>> {
    Pattern::compile(source, insensitive)
        .map(Arc::new)
        .map_err(|msg| {
            RuleError::new(
                ErrorKind::BadRegex,
                pos as usize,
                format!("invalid regular expression {source:?}: {msg}"),
            )
        })
}

/// The type of a rule's result when it is known from its text: comparisons and boolean
/// operators give booleans, `length` a number, `lcase` text, and so on; `None` when it
/// depends on the data.
pub(crate) fn result_type(node: &Node, slots: &[SlotInfo], ext: &Extensions) -> Option<VarType> {
    use Builtin::*;
    match &node.kind {
        Kind::Const(Value::Str(_)) => Some(VarType::String),
        Kind::Const(Value::Int(_) | Value::Float(_)) => Some(VarType::Number),
        Kind::Const(Value::Bool(_)) => Some(VarType::Bool),
        Kind::Const(Value::Array(_)) | Kind::Array(_) => Some(VarType::Array),
        Kind::Const(_) => None,
        Kind::Var(slot) => {
            let info = slots.get(*slot as usize)?;
            if info.from_host {
                ext.variable_type(&info.name)
            } else {
                None
            }
        }
        Kind::Compare { .. } | Kind::Logic { .. } | Kind::Not(_) | Kind::Keyword { .. } => {
            Some(VarType::Bool)
        }
        Kind::Neg(_) => Some(VarType::Number),
        Kind::Arith { first, rest } => {
            let all_numbers = std::iter::once(&**first)
                .chain(rest.iter().map(|(_, n, _)| n))
                .all(|n| result_type(n, slots, ext) == Some(VarType::Number));
            let only_add = rest.iter().all(|(op, _, _)| *op == ArithOp::Add);
            if all_numbers || !only_add {
                Some(VarType::Number)
            } else if result_type(first, slots, ext) == Some(VarType::String) {
                Some(VarType::String)
            } else {
                None
            }
        }
        Kind::Seq(items) => items.last().and_then(|n| result_type(n, slots, ext)),
        Kind::Cond {
            then, otherwise, ..
        } => {
            let a = result_type(then, slots, ext);
            let b = otherwise.as_ref().and_then(|o| result_type(o, slots, ext));
            (a == b).then_some(a).flatten()
        }
        Kind::Assign { value, .. } => result_type(value, slots, ext),
        Kind::Call {
            callee: Callee::Builtin(b),
            ..
        } => match b {
            Lcase | Ucase | String | Norm | Ccnorm | Rmspecials | Rmdoubles | Rmwhitespace
            | Substr | StrReplace | StrReplaceRegexp | Rescape | Sanitize => Some(VarType::String),
            Length | Strlen | Int | Float | Specialratio | Count | Rcount | Strpos => {
                Some(VarType::Number)
            }
            Bool | CcnormContainsAny | CcnormContainsAll | ContainsAny | ContainsAll
            | EqualsToAny | IpInRange | IpInRanges => Some(VarType::Bool),
            GetMatches => Some(VarType::Array),
            Set => None,
        },
        _ => None,
    }
}
