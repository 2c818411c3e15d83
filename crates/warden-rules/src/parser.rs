//! The parser, equivalent to AbuseFilter's `AFPTreeParser`, producing a syntax tree.
//!
//! Precedence, from loosest to tightest: `;` statements, `:=` assignment, `if … then … else
//! … end` and `?:`, the boolean operators `&`, `|` and `^` (one level, left-associative),
//! comparisons (at most one equality and one ordering operator in a row), `+` and `-`,
//! `*`, `/` and `%`, `**` (left-associative), `!`, the keyword operators (`in`, `contains`,
//! `like`, `matches`, `rlike`, `irlike`, `regex`), unary `+` and `-`, indexing, parentheses,
//! function calls and atoms. As upstream, `!` and unary minus do not nest without
//! parentheses (`!!x` is a syntax error).
//!
//! Left-associative chains are stored flat so that long chains such as
//! `a | b | c | …` do not make the tree (and evaluation recursion) deep. Variables are
//! resolved to slots and functions to their implementation while parsing.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{ErrorKind, Result, RuleError};
use crate::functions::Builtin;
use crate::lexer::{Keyword, Op, Tok, Token};
use crate::limits::MAX_NESTING_DEPTH;
use crate::pcre::Pattern;
use crate::value::Value;
use crate::vars::{Extensions, HostFunction};

/// A node of the syntax tree and the byte offset of the token it came from.
#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub pos: u32,
}

/// What a node does.
#[derive(Debug)]
pub(crate) enum Kind {
    Const(Value),
    Var(u32),
    Array(Vec<Node>),
    Call {
        callee: Callee,
        args: Vec<Node>,
        /// The pattern argument, compiled once when it is a string literal.
        pattern: Option<Arc<Pattern>>,
    },
    /// `base[i][j]…`, evaluated left to right.
    Index {
        base: Box<Node>,
        indices: Vec<(Node, u32)>,
    },
    Neg(Box<Node>),
    Not(Box<Node>),
    Keyword {
        op: KwOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
        /// The right-hand pattern, compiled once when it is a string literal.
        pattern: Option<Arc<Pattern>>,
    },
    /// A left-associative chain of arithmetic operators of one precedence level.
    Arith {
        first: Box<Node>,
        rest: Vec<(ArithOp, Node, u32)>,
    },
    /// A left-associative chain of `&`, `|` and `^`.
    Logic {
        first: Box<Node>,
        rest: Vec<(LogicOp, Node)>,
    },
    Compare {
        op: CmpOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Cond {
        cond: Box<Node>,
        then: Box<Node>,
        otherwise: Option<Box<Node>>,
    },
    /// `x := value`, or `set('x', value)` when `is_call` (which counts as a condition).
    Assign {
        slot: u32,
        value: Box<Node>,
        is_call: bool,
    },
    IndexAssign {
        slot: u32,
        index: Box<Node>,
        value: Box<Node>,
    },
    Append {
        slot: u32,
        value: Box<Node>,
    },
    Seq(Vec<Node>),
}

/// The function a call node invokes.
#[derive(Clone)]
pub(crate) enum Callee {
    Builtin(Builtin),
    Host(Arc<HostFunction>),
}

impl std::fmt::Debug for Callee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Callee::Builtin(b) => write!(f, "{}", b.name()),
            Callee::Host(h) => write!(f, "{}", h.name()),
        }
    }
}

/// Keyword operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KwOp {
    In,
    Contains,
    Like,
    Rlike,
    Irlike,
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

/// Boolean operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogicOp {
    And,
    Or,
    Xor,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The variables a rule mentions, by slot.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    pub names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
}

impl Slots {
    pub(crate) fn slot(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }
}

/// Parses a token stream into a tree; `None` for a rule with no statements.
pub(crate) fn parse(tokens: &[Token], ext: &Extensions, slots: &mut Slots) -> Result<Option<Node>> {
    let mut p = Parser {
        tokens,
        i: 0,
        ext,
        slots,
        depth: 0,
        bracket_match: match_brackets(tokens),
    };
    let root = p.parse_semicolon()?;
    if p.cur() != &Tok::Eof {
        return Err(p.error(
            ErrorKind::UnexpectedAtEnd,
            format!(
                "unexpected {} after the end of the rule",
                p.cur().describe()
            ),
        ));
    }
    Ok(root)
}

/// For each `[` token, the index of its matching `]`, if any.
fn match_brackets(tokens: &[Token]) -> HashMap<usize, usize> {
    let mut stack = Vec::new();
    let mut out = HashMap::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.tok {
            Tok::LBracket => stack.push(i),
            Tok::RBracket => {
                if let Some(open) = stack.pop() {
                    out.insert(open, i);
                }
            }
            _ => {}
        }
    }
    out
}

/// Fails when function `name` (called at `pos`) gets fewer than `min` or
/// more than `max` arguments.
fn check_arity(
    name: &str,
    pos: usize,
    (min, max): (usize, Option<usize>),
    got: usize,
) -> Result<()> {
    if got < min {
        return Err(RuleError::new(
            ErrorKind::TooFewArguments,
            pos,
            format!(
                "{name} needs at least {min} argument{}, got {got}",
                if min == 1 { "" } else { "s" },
            ),
        ));
    }
    if let Some(max) = max {
        if got > max {
            return Err(RuleError::new(
                ErrorKind::TooManyArguments,
                pos,
                format!(
                    "{name} takes at most {max} argument{}, got {got}",
                    if max == 1 { "" } else { "s" },
                ),
            ));
        }
    }
    Ok(())
}

struct Parser<'a> {
    tokens: &'a [Token],
    i: usize,
    ext: &'a Extensions,
    slots: &'a mut Slots,
    depth: usize,
    bracket_match: HashMap<usize, usize>,
}

fn node(kind: Kind, pos: usize) -> Node {
    Node {
        kind,
        pos: pos as u32,
    }
}

impl Parser<'_> {
    fn cur(&self) -> &Tok {
        &self.tokens[self.i.min(self.tokens.len() - 1)].tok
    }

    fn pos(&self) -> usize {
        self.tokens[self.i.min(self.tokens.len() - 1)].pos
    }

    fn peek(&self, n: usize) -> &Tok {
        &self.tokens[(self.i + n).min(self.tokens.len() - 1)].tok
    }

    fn advance(&mut self) {
        if self.i + 1 < self.tokens.len() {
            self.i += 1;
        }
    }

    fn error(&self, kind: ErrorKind, detail: impl Into<String>) -> RuleError {
        RuleError::new(kind, self.pos(), detail)
    }

    fn unexpected(&self) -> RuleError {
        self.error(
            ErrorKind::UnexpectedToken,
            format!("unexpected {}", self.cur().describe()),
        )
    }

    fn expected(&self, what: &str) -> RuleError {
        self.error(
            ErrorKind::ExpectedNotFound,
            format!("expected {what}, found {}", self.cur().describe()),
        )
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING_DEPTH {
            return Err(self.error(
                ErrorKind::NestingTooDeep,
                format!("the rule nests deeper than {MAX_NESTING_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn var_slot(&mut self, name: &str) -> u32 {
        let name = self.ext.canonical_name(name);
        let canonical = self.ext.canonical_variable(&name).unwrap_or(&name);
        let canonical = canonical.to_owned();
        self.slots.slot(&canonical)
    }

    /// Statements separated by `;`, stopping at the end of input or a `)`.
    fn parse_semicolon(&mut self) -> Result<Option<Node>> {
        let start = self.pos();
        let mut statements = Vec::new();
        loop {
            match self.cur() {
                Tok::Eof | Tok::RParen => break,
                Tok::Semicolon => {
                    self.advance();
                    continue;
                }
                _ => {}
            }
            statements.push(self.parse_set()?);
            if self.cur() == &Tok::Semicolon {
                self.advance();
                continue;
            }
            break;
        }
        Ok(match statements.len() {
            0 => None,
            1 => statements.pop(),
            _ => Some(node(Kind::Seq(statements), start)),
        })
    }

    /// Assignment: `x := v`, `x[i] := v` and `x[] := v`.
    fn parse_set(&mut self) -> Result<Node> {
        if let Tok::Id(name) = self.cur() {
            let name = name.clone();
            match self.peek(1) {
                Tok::Op(Op::Assign) => {
                    self.advance();
                    let pos = self.pos();
                    self.advance();
                    let (slot, value) = self.assigned_value(&name)?;
                    return Ok(node(
                        Kind::Assign {
                            slot,
                            value,
                            is_call: false,
                        },
                        pos,
                    ));
                }
                Tok::LBracket => {
                    let open = self.i + 1;
                    if self.peek(2) == &Tok::RBracket && self.peek(3) == &Tok::Op(Op::Assign) {
                        self.advance();
                        self.advance();
                        self.advance();
                        let pos = self.pos();
                        self.advance();
                        let (slot, value) = self.assigned_value(&name)?;
                        return Ok(node(Kind::Append { slot, value }, pos));
                    }
                    let is_index_assignment = self.bracket_match.get(&open).is_some_and(|&close| {
                        matches!(
                            self.tokens.get(close + 1).map(|t| &t.tok),
                            Some(Tok::Op(Op::Assign))
                        )
                    });
                    if is_index_assignment {
                        return self.parse_index_assign(&name);
                    }
                }
                _ => {}
            }
        }
        self.parse_conditions()
    }

    /// `x[i] := v`, with the cursor on `x`.
    fn parse_index_assign(&mut self, name: &str) -> Result<Node> {
        self.advance();
        self.advance();
        let Some(index) = self.parse_semicolon()? else {
            return Err(self.unexpected());
        };
        if self.cur() != &Tok::RBracket {
            return Err(self.expected("']'"));
        }
        self.advance();
        if self.cur() != &Tok::Op(Op::Assign) {
            return Err(self.expected("':='"));
        }
        let pos = self.pos();
        self.advance();
        let (slot, value) = self.assigned_value(name)?;
        Ok(node(
            Kind::IndexAssign {
                slot,
                index: Box::new(index),
                value,
            },
            pos,
        ))
    }

    /// The slot of variable `name` and the value assigned to it (the
    /// cursor just after `:=`).
    fn assigned_value(&mut self, name: &str) -> Result<(u32, Box<Node>)> {
        let slot = self.var_slot(name);
        self.enter()?;
        let value = self.parse_set()?;
        self.leave();
        Ok((slot, Box::new(value)))
    }

    /// `if … then … else … end` and `cond ? a : b`.
    fn parse_conditions(&mut self) -> Result<Node> {
        self.enter()?;
        let result = self.parse_conditions_inner();
        self.leave();
        result
    }

    fn parse_conditions_inner(&mut self) -> Result<Node> {
        if self.cur() == &Tok::Kw(Keyword::If) {
            let pos = self.pos();
            self.advance();
            let cond = self.parse_bool_ops()?;
            if self.cur() != &Tok::Kw(Keyword::Then) {
                return Err(self.expected("'then'"));
            }
            self.advance();
            let then = self.parse_conditions()?;
            let otherwise = if self.cur() == &Tok::Kw(Keyword::Else) {
                self.advance();
                Some(Box::new(self.parse_conditions()?))
            } else {
                None
            };
            if self.cur() != &Tok::Kw(Keyword::End) {
                return Err(self.expected("'end'"));
            }
            self.advance();
            return Ok(node(
                Kind::Cond {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise,
                },
                pos,
            ));
        }
        let cond = self.parse_bool_ops()?;
        if self.cur() == &Tok::Op(Op::Question) {
            let pos = self.pos();
            self.advance();
            let then = self.parse_conditions()?;
            if self.cur() != &Tok::Op(Op::Colon) {
                return Err(self.expected("':'"));
            }
            self.advance();
            let otherwise = self.parse_conditions()?;
            return Ok(node(
                Kind::Cond {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Some(Box::new(otherwise)),
                },
                pos,
            ));
        }
        Ok(cond)
    }

    fn parse_bool_ops(&mut self) -> Result<Node> {
        let first = self.parse_compares()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.cur() {
                Tok::Op(Op::And) => LogicOp::And,
                Tok::Op(Op::Or) => LogicOp::Or,
                Tok::Op(Op::Xor) => LogicOp::Xor,
                _ => break,
            };
            self.advance();
            rest.push((op, self.parse_compares()?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        let pos = first.pos as usize;
        Ok(node(
            Kind::Logic {
                first: Box::new(first),
                rest,
            },
            pos,
        ))
    }

    fn parse_compares(&mut self) -> Result<Node> {
        let mut lhs = self.parse_sum()?;
        let mut allow_equality = true;
        let mut allow_order = true;
        loop {
            let (op, equality) = match self.cur() {
                Tok::Op(Op::EqEq) | Tok::Op(Op::Eq) => (CmpOp::Eq, true),
                Tok::Op(Op::EqEqEq) => (CmpOp::StrictEq, true),
                Tok::Op(Op::NotEq) => (CmpOp::Ne, true),
                Tok::Op(Op::NotEqEq) => (CmpOp::StrictNe, true),
                Tok::Op(Op::Lt) => (CmpOp::Lt, false),
                Tok::Op(Op::Le) => (CmpOp::Le, false),
                Tok::Op(Op::Gt) => (CmpOp::Gt, false),
                Tok::Op(Op::Ge) => (CmpOp::Ge, false),
                _ => break,
            };
            if (equality && !allow_equality) || (!equality && !allow_order) {
                break;
            }
            if equality {
                allow_equality = false;
            } else {
                allow_order = false;
            }
            let pos = self.pos();
            self.advance();
            let rhs = self.parse_sum()?;
            lhs = node(
                Kind::Compare {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                pos,
            );
        }
        Ok(lhs)
    }

    fn arith_chain(
        &mut self,
        next: fn(&mut Self) -> Result<Node>,
        op_of: fn(&Tok) -> Option<ArithOp>,
    ) -> Result<Node> {
        let first = next(self)?;
        let mut rest = Vec::new();
        while let Some(op) = op_of(self.cur()) {
            let pos = self.pos() as u32;
            self.advance();
            rest.push((op, next(self)?, pos));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        let pos = first.pos as usize;
        Ok(node(
            Kind::Arith {
                first: Box::new(first),
                rest,
            },
            pos,
        ))
    }

    fn parse_sum(&mut self) -> Result<Node> {
        self.arith_chain(Self::parse_mul, |t| match t {
            Tok::Op(Op::Plus) => Some(ArithOp::Add),
            Tok::Op(Op::Minus) => Some(ArithOp::Sub),
            _ => None,
        })
    }

    fn parse_mul(&mut self) -> Result<Node> {
        self.arith_chain(Self::parse_pow, |t| match t {
            Tok::Op(Op::Mul) => Some(ArithOp::Mul),
            Tok::Op(Op::Div) => Some(ArithOp::Div),
            Tok::Op(Op::Mod) => Some(ArithOp::Mod),
            _ => None,
        })
    }

    fn parse_pow(&mut self) -> Result<Node> {
        self.arith_chain(Self::parse_bool_invert, |t| match t {
            Tok::Op(Op::Pow) => Some(ArithOp::Pow),
            _ => None,
        })
    }

    fn parse_bool_invert(&mut self) -> Result<Node> {
        if self.cur() == &Tok::Op(Op::Not) {
            let pos = self.pos();
            self.advance();
            let arg = self.parse_keyword_ops()?;
            return Ok(node(Kind::Not(Box::new(arg)), pos));
        }
        self.parse_keyword_ops()
    }

    fn parse_keyword_ops(&mut self) -> Result<Node> {
        let lhs = self.parse_unary()?;
        let op = match self.cur() {
            Tok::Kw(Keyword::In) => KwOp::In,
            Tok::Kw(Keyword::Contains) => KwOp::Contains,
            Tok::Kw(Keyword::Like) | Tok::Kw(Keyword::Matches) => KwOp::Like,
            Tok::Kw(Keyword::Rlike) | Tok::Kw(Keyword::Regex) => KwOp::Rlike,
            Tok::Kw(Keyword::Irlike) => KwOp::Irlike,
            _ => return Ok(lhs),
        };
        let pos = self.pos();
        self.advance();
        let rhs = self.parse_unary()?;
        Ok(node(
            Kind::Keyword {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                pattern: None,
            },
            pos,
        ))
    }

    fn parse_unary(&mut self) -> Result<Node> {
        match self.cur() {
            Tok::Op(Op::Minus) => {
                let pos = self.pos();
                self.advance();
                let arg = self.parse_array_elements()?;
                Ok(node(Kind::Neg(Box::new(arg)), pos))
            }
            // Unary plus returns its operand unchanged.
            Tok::Op(Op::Plus) => {
                self.advance();
                self.parse_array_elements()
            }
            _ => self.parse_array_elements(),
        }
    }

    fn parse_array_elements(&mut self) -> Result<Node> {
        let base = self.parse_parenthesis()?;
        let mut indices = Vec::new();
        while self.cur() == &Tok::LBracket {
            let pos = self.pos();
            self.advance();
            let Some(index) = self.parse_semicolon()? else {
                return Err(self.unexpected());
            };
            if self.cur() != &Tok::RBracket {
                return Err(self.expected("']'"));
            }
            self.advance();
            indices.push((index, pos as u32));
        }
        if indices.is_empty() {
            return Ok(base);
        }
        let pos = base.pos as usize;
        Ok(node(
            Kind::Index {
                base: Box::new(base),
                indices,
            },
            pos,
        ))
    }

    fn parse_parenthesis(&mut self) -> Result<Node> {
        if self.cur() != &Tok::LParen {
            return self.parse_function();
        }
        if self.peek(1) == &Tok::RParen {
            return Err(self.error(
                ErrorKind::UnexpectedToken,
                "empty parentheses are not allowed",
            ));
        }
        self.advance();
        let Some(inner) = self.parse_semicolon()? else {
            return Err(self.unexpected());
        };
        if self.cur() != &Tok::RParen {
            return Err(self.expected("')'"));
        }
        self.advance();
        Ok(inner)
    }

    fn parse_function(&mut self) -> Result<Node> {
        let Tok::Id(name) = self.cur() else {
            return self.parse_atom();
        };
        if self.peek(1) != &Tok::LParen {
            return self.parse_atom();
        }
        let lower = name.to_ascii_lowercase();
        let pos = self.pos();
        let (callee, min, max) = if let Some(b) = Builtin::lookup(&lower) {
            let (min, max) = b.arity();
            (Callee::Builtin(b), min, max)
        } else if let Some(h) = self.ext.function(&lower) {
            (Callee::Host(h.clone()), h.min_args(), h.max_args())
        } else {
            return Err(self.error(
                ErrorKind::UnknownFunction,
                format!("unknown function '{lower}'"),
            ));
        };
        self.advance();
        self.advance();
        let args = self.parse_arguments(max)?;
        check_arity(&lower, pos, (min, max), args.len())?;
        if matches!(callee, Callee::Builtin(Builtin::Set)) {
            return self.set_call(args, pos);
        }
        Ok(node(
            Kind::Call {
                callee,
                args,
                pattern: None,
            },
            pos,
        ))
    }

    /// The arguments of a call up to and past its `)`, the cursor just
    /// after the `(`; a variadic function (no `max`) may have empty ones.
    fn parse_arguments(&mut self, max: Option<usize>) -> Result<Vec<Node>> {
        let variadic = max.is_none();
        let mut args = Vec::new();
        if self.cur() == &Tok::RParen {
            self.advance();
            return Ok(args);
        }
        loop {
            match self.parse_semicolon()? {
                Some(arg) => args.push(arg),
                None if variadic => {}
                None => return Err(self.unexpected()),
            }
            if self.cur() == &Tok::Comma {
                self.advance();
                continue;
            }
            break;
        }
        if self.cur() != &Tok::RParen {
            return Err(self.expected("')'"));
        }
        self.advance();
        Ok(args)
    }

    /// `set("name", value)`: an assignment to a variable named by a string literal.
    fn set_call(&mut self, mut args: Vec<Node>, pos: usize) -> Result<Node> {
        let value = args
            .pop()
            .unwrap_or_else(|| node(Kind::Const(Value::Null), pos));
        let name_node = args.pop();
        let Some(Node {
            kind: Kind::Const(Value::Str(var_name)),
            ..
        }) = name_node
        else {
            return Err(RuleError::new(
                ErrorKind::VariableVariable,
                pos,
                "the first argument of set must be a string literal",
            ));
        };
        let slot = self.var_slot(&var_name);
        Ok(node(
            Kind::Assign {
                slot,
                value: Box::new(value),
                is_call: true,
            },
            pos,
        ))
    }

    fn parse_atom(&mut self) -> Result<Node> {
        let pos = self.pos();
        let kind = match self.cur() {
            Tok::Id(name) => {
                let name = name.clone();
                Kind::Var(self.var_slot(&name))
            }
            Tok::Str(s) => Kind::Const(Value::str(s)),
            Tok::Int(i) => Kind::Const(Value::Int(*i)),
            Tok::Float(f) => Kind::Const(Value::Float(*f)),
            Tok::Kw(Keyword::True) => Kind::Const(Value::Bool(true)),
            Tok::Kw(Keyword::False) => Kind::Const(Value::Bool(false)),
            Tok::Kw(Keyword::Null) => Kind::Const(Value::Null),
            Tok::Kw(kw) => {
                return Err(self.error(
                    ErrorKind::UnrecognisedKeyword,
                    format!("keyword '{}' cannot be used as a value", kw.as_str()),
                ))
            }
            Tok::LBracket => {
                self.advance();
                let mut items = Vec::new();
                loop {
                    if self.cur() == &Tok::RBracket {
                        break;
                    }
                    items.push(self.parse_set()?);
                    if self.cur() == &Tok::RBracket {
                        break;
                    }
                    if self.cur() != &Tok::Comma {
                        return Err(self.expected("',' or ']'"));
                    }
                    self.advance();
                }
                Kind::Array(items)
            }
            _ => return Err(self.unexpected()),
        };
        self.advance();
        Ok(node(kind, pos))
    }
}
