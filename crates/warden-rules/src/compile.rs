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
use crate::limits::MAX_AST_DEPTH;
use crate::parser::{Callee, Kind, KwOp, Node, Slots};
use crate::pcre::Pattern;
use crate::value::Value;
use crate::vars::Extensions;

/// What the evaluator needs to know about a variable slot.
#[derive(Debug, Clone)]
pub(crate) struct SlotInfo {
    /// The lowercase name.
    pub name: Arc<str>,
    /// Whether the value is looked up in the host when the rule has not assigned it.
    pub from_host: bool,
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

    fn node(&mut self, node: &mut Node, depth: usize) -> Result<()> {
        if depth > MAX_AST_DEPTH {
            return Err(RuleError::new(
                ErrorKind::NestingTooDeep,
                node.pos as usize,
                format!("the syntax tree is deeper than {MAX_AST_DEPTH} levels"),
            ));
        }
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
                if let Callee::Builtin(b) = callee {
                    if let Some(i) = b.pattern_arg(args.len()) {
                        if let Some(Node {
                            kind: Kind::Const(Value::Str(source)),
                            ..
                        }) = args.get(i)
                        {
                            *pattern = Some(compile_literal(source, false, pos)?);
                        }
                    }
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
            } => {
                self.node(cond, d)?;
                let before = self.bound.clone();
                self.node(then, d)?;
                let after_then = std::mem::replace(&mut self.bound, before);
                if let Some(otherwise) = otherwise {
                    self.node(otherwise, d)?;
                }
                for (b, t) in self.bound.iter_mut().zip(after_then) {
                    *b |= t;
                }
            }
            Kind::Assign { slot, value, .. } => {
                let slot = *slot;
                self.node(value, d)?;
                self.assign(slot, pos)?;
            }
            Kind::IndexAssign { slot, index, value } => {
                let slot = *slot;
                self.read(slot, pos)?;
                self.node(index, d)?;
                self.node(value, d)?;
                self.assign(slot, pos)?;
            }
            Kind::Append { slot, value } => {
                let slot = *slot;
                self.read(slot, pos)?;
                self.node(value, d)?;
                self.assign(slot, pos)?;
            }
        }
        fold_constants(node);
        Ok(())
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
