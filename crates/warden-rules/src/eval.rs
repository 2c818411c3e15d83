//! The evaluator, equivalent to AbuseFilter's `FilterEvaluator`, and its budget.
//!
//! Evaluation walks the compiled tree. `&` and `|` short-circuit and return the left operand
//! itself when they do (so `0 & x` is `0`, not `false`); the branch not taken by a
//! conditional is not evaluated. Comparisons, keyword operators and function calls each
//! consume one condition; every node and every KiB of string work consumes one step. The
//! [`EvalContext`] carries both budgets, the variable slots of the evaluation in progress
//! and a cache of regular expressions built at run time.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::compile::SlotInfo;
use crate::error::{ErrorKind, Result, RuleError};
use crate::functions::{self, Builtin};
use crate::limits::cost::{COPY_PER_KIB, HOST_CALL_STEPS, HOST_PER_KIB};
use crate::limits::{
    DEADLINE_CHECK_INTERVAL, DEFAULT_CONDITION_LIMIT, DEFAULT_STEP_LIMIT, MAX_ARRAY_DEPTH,
    MAX_ARRAY_LENGTH, MAX_STRING_LENGTH,
};
use crate::parser::{ArithOp, Callee, CmpOp, Kind, LogicOp, Node};
use crate::pcre::RegexCache;
use crate::value::{float_to_string, Num, Value};
use crate::vars::Variables;

/// The budgets and scratch state of evaluations.
///
/// Create one per worker thread and reuse it: it keeps its allocations and its cache of
/// regular expressions built at run time. The condition and step counters accumulate across
/// evaluations, like AbuseFilter's per-edit condition limit shared by all filters; call
/// [`EvalContext::reset`] when a new event starts (or before each rule, for per-rule budgets).
pub struct EvalContext {
    conditions: u32,
    condition_limit: u32,
    steps: u64,
    step_limit: u64,
    /// The step count at which the budget is next checked.
    checkpoint: u64,
    deadline: Option<Box<dyn FnMut() -> bool + Send>>,
    pub(crate) regex_cache: RegexCache,
    slots: Vec<Option<Value>>,
    /// Whether an `Undefined` value may be flowing in the current evaluation.
    saw_undefined: bool,
    arg_pool: Vec<Vec<Value>>,
}

impl fmt::Debug for EvalContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvalContext")
            .field("conditions", &self.conditions)
            .field("condition_limit", &self.condition_limit)
            .field("steps", &self.steps)
            .field("step_limit", &self.step_limit)
            .field("has_deadline", &self.deadline.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for EvalContext {
    fn default() -> Self {
        EvalContext::new()
    }
}

impl EvalContext {
    /// A context with the default limits
    /// ([`crate::limits::DEFAULT_CONDITION_LIMIT`], [`crate::limits::DEFAULT_STEP_LIMIT`])
    /// and no deadline.
    pub fn new() -> Self {
        let mut ctx = EvalContext {
            conditions: 0,
            condition_limit: DEFAULT_CONDITION_LIMIT,
            steps: 0,
            step_limit: DEFAULT_STEP_LIMIT,
            checkpoint: 0,
            deadline: None,
            regex_cache: RegexCache::default(),
            slots: Vec::new(),
            saw_undefined: false,
            arg_pool: Vec::new(),
        };
        ctx.update_checkpoint();
        ctx
    }

    /// Sets how many conditions may be consumed before [`ErrorKind::ConditionLimit`].
    pub fn with_condition_limit(mut self, limit: u32) -> Self {
        self.condition_limit = limit;
        self
    }

    /// Sets how many steps may be consumed before [`ErrorKind::TimeBudget`].
    pub fn with_step_limit(mut self, limit: u64) -> Self {
        self.step_limit = limit;
        self.update_checkpoint();
        self
    }

    /// Sets how many steps may be consumed before [`ErrorKind::TimeBudget`], in place.
    pub fn set_step_limit(&mut self, limit: u64) {
        self.step_limit = limit;
        self.update_checkpoint();
    }

    /// Installs a deadline check, called every
    /// [`crate::limits::DEADLINE_CHECK_INTERVAL`] steps; when it returns `true` the
    /// evaluation stops with [`ErrorKind::TimeBudget`]. The core never reads a clock itself.
    pub fn set_deadline(&mut self, expired: impl FnMut() -> bool + Send + 'static) {
        self.deadline = Some(Box::new(expired));
        self.update_checkpoint();
    }

    /// Removes the deadline check.
    pub fn clear_deadline(&mut self) {
        self.deadline = None;
        self.update_checkpoint();
    }

    /// Resets the condition and step counters, keeping limits, deadline and caches.
    pub fn reset(&mut self) {
        self.conditions = 0;
        self.steps = 0;
        self.update_checkpoint();
    }

    /// The conditions consumed since the last [`EvalContext::reset`].
    pub fn conditions_used(&self) -> u32 {
        self.conditions
    }

    /// The steps consumed since the last [`EvalContext::reset`].
    pub fn steps_used(&self) -> u64 {
        self.steps
    }

    /// The condition limit.
    pub fn condition_limit(&self) -> u32 {
        self.condition_limit
    }

    /// The step limit.
    pub fn step_limit(&self) -> u64 {
        self.step_limit
    }

    fn update_checkpoint(&mut self) {
        self.checkpoint = if self.deadline.is_some() {
            self.step_limit
                .min(self.steps.saturating_add(DEADLINE_CHECK_INTERVAL))
        } else {
            self.step_limit
        };
    }

    /// Consumes `steps` steps.
    #[inline]
    pub(crate) fn charge_steps(&mut self, steps: u64, pos: usize) -> Result<()> {
        self.steps = self.steps.saturating_add(steps);
        if self.steps > self.checkpoint {
            self.check_budget(pos)?;
        }
        Ok(())
    }

    /// Consumes the steps of `bytes` bytes of work at `per_kib` steps per KiB (see
    /// [`crate::limits::cost`]).
    #[inline]
    pub(crate) fn charge_work(&mut self, bytes: usize, per_kib: u64, pos: usize) -> Result<()> {
        if bytes == 0 {
            return Ok(());
        }
        self.charge_steps(work_steps(bytes, per_kib), pos)
    }

    #[cold]
    fn check_budget(&mut self, pos: usize) -> Result<()> {
        if self.steps > self.step_limit {
            return Err(RuleError::new(
                ErrorKind::TimeBudget,
                pos,
                format!("the evaluation used more than {} steps", self.step_limit),
            ));
        }
        if let Some(expired) = self.deadline.as_mut() {
            if expired() {
                return Err(RuleError::new(
                    ErrorKind::TimeBudget,
                    pos,
                    "the evaluation deadline passed",
                ));
            }
        }
        self.update_checkpoint();
        Ok(())
    }

    fn raise_condition(&mut self, pos: u32) -> Result<()> {
        self.conditions += 1;
        if self.conditions > self.condition_limit {
            return Err(RuleError::new(
                ErrorKind::ConditionLimit,
                pos as usize,
                format!("more than {} conditions used", self.condition_limit),
            ));
        }
        Ok(())
    }
}

/// The steps of `bytes` bytes of work at `per_kib` steps per KiB, rounded up.
pub(crate) fn work_steps(bytes: usize, per_kib: u64) -> u64 {
    (bytes as u64).saturating_mul(per_kib).div_ceil(1024)
}

/// The bytes of work a value stands for when it is compared, converted or copied: its
/// string length, its elements and their contents; nothing for numbers, booleans and null,
/// whose handling costs no more than the node that produced them.
pub(crate) fn data_bytes(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len(),
        Value::Array(_) => v.str_len_hint(),
        _ => 0,
    }
}

/// Evaluates a compiled tree.
pub(crate) fn evaluate(
    root: Option<&Node>,
    slots: &[SlotInfo],
    vars: &dyn Variables,
    ctx: &mut EvalContext,
) -> Result<Value> {
    ctx.slots.clear();
    ctx.slots.resize(slots.len(), None);
    ctx.saw_undefined = false;
    let Some(root) = root else {
        return Ok(Value::Null);
    };
    let mut e = Evaluator { slots, vars, ctx };
    e.eval(root)
}

struct Evaluator<'a> {
    slots: &'a [SlotInfo],
    vars: &'a dyn Variables,
    ctx: &'a mut EvalContext,
}

fn err(kind: ErrorKind, pos: u32, detail: impl Into<String>) -> RuleError {
    RuleError::new(kind, pos as usize, detail)
}

fn check_string(s: String, pos: u32) -> Result<Value> {
    if s.len() > MAX_STRING_LENGTH {
        return Err(err(
            ErrorKind::StringTooLong,
            pos,
            format!("string is longer than {MAX_STRING_LENGTH} bytes"),
        ));
    }
    Ok(Value::from(s))
}

fn is_true(v: &Value) -> bool {
    !v.is_undefined() && v.to_bool()
}

impl Evaluator<'_> {
    #[expect(
        clippy::too_many_lines,
        reason = "predates the 70-line lint; to be split"
    )]
    fn eval(&mut self, node: &Node) -> Result<Value> {
        self.ctx.steps += 1;
        if self.ctx.steps > self.ctx.checkpoint {
            self.ctx.check_budget(node.pos as usize)?;
        }
        let pos = node.pos;
        match &node.kind {
            Kind::Const(v) => Ok(v.clone()),
            Kind::Var(slot) => Ok(self.read_var(*slot)),
            Kind::Array(items) => {
                if items.len() > MAX_ARRAY_LENGTH {
                    return Err(err(ErrorKind::ArrayTooLong, pos, "array literal too long"));
                }
                self.array_literal(items, pos)
            }
            Kind::Seq(items) => {
                let mut last = Value::Null;
                for item in items {
                    last = self.eval(item)?;
                }
                Ok(last)
            }
            Kind::Call {
                callee,
                args,
                pattern,
            } => {
                let mut values = self.ctx.arg_pool.pop().unwrap_or_default();
                values.clear();
                let result = self.call(callee, args, pattern.as_ref(), pos, &mut values);
                values.clear();
                self.ctx.arg_pool.push(values);
                result
            }
            Kind::Index { base, indices } => {
                let mut current = self.eval(base)?;
                for (index, bracket) in indices {
                    let offset = self.eval(index)?;
                    current = if current.is_undefined() || offset.is_undefined() {
                        Value::Undefined
                    } else {
                        index_value(&current, &offset, *bracket)?
                    };
                }
                Ok(current)
            }
            Kind::Neg(arg) => {
                let v = self.eval(arg)?;
                charge_data(self.ctx, &v, &Value::Null, pos)?;
                Ok(negate(v))
            }
            Kind::Not(arg) => {
                let v = self.eval(arg)?;
                Ok(if v.is_undefined() {
                    Value::Undefined
                } else {
                    Value::Bool(!v.to_bool())
                })
            }
            Kind::Keyword {
                op,
                lhs,
                rhs,
                pattern,
            } => {
                let l = self.operand(lhs)?;
                let r = self.operand(rhs)?;
                self.ctx.raise_condition(pos)?;
                if self.ctx.saw_undefined && (l.has_undefined() || r.has_undefined()) {
                    // Run the operator on nulls so that errors still surface, as upstream.
                    functions::keyword(
                        *op,
                        &l.undefined_to_null(),
                        &r.undefined_to_null(),
                        pattern.as_ref(),
                        self.ctx,
                        pos as usize,
                    )?;
                    return Ok(Value::Undefined);
                }
                functions::keyword(*op, &l, &r, pattern.as_ref(), self.ctx, pos as usize)
            }
            Kind::Arith { first, rest } => {
                let acc = self.eval(first)?;
                self.arith_chain(acc, rest)
            }
            Kind::Logic { first, rest } => {
                let mut acc = self.eval(first)?;
                for (op, rhs) in rest {
                    let a = is_true(&acc);
                    match op {
                        LogicOp::And if !a => continue,
                        LogicOp::Or if a => continue,
                        _ => {}
                    }
                    let b = is_true(&self.eval(rhs)?);
                    acc = Value::Bool(match op {
                        LogicOp::And => a && b,
                        LogicOp::Or => a || b,
                        LogicOp::Xor => a != b,
                    });
                }
                Ok(acc)
            }
            Kind::Compare { op, lhs, rhs } => {
                let l = self.operand(lhs)?;
                let r = self.operand(rhs)?;
                self.ctx.raise_condition(pos)?;
                if l.is_undefined() || r.is_undefined() {
                    return Ok(Value::Undefined);
                }
                charge_data(self.ctx, &l, &r, pos)?;
                Ok(Value::Bool(compare(*op, &l, &r)))
            }
            Kind::Cond {
                cond,
                then,
                otherwise,
            } => {
                let c = self.eval(cond)?;
                if is_true(&c) {
                    self.eval(then)
                } else if let Some(otherwise) = otherwise {
                    self.eval(otherwise)
                } else {
                    Ok(Value::Null)
                }
            }
            Kind::Assign {
                slot,
                value,
                is_call,
            } => {
                let v = self.eval(value)?;
                if *is_call {
                    self.ctx.raise_condition(pos)?;
                    if self.ctx.saw_undefined && v.has_undefined() {
                        // Upstream runs `set` with the undefined argument replaced by null.
                        self.store(*slot, v.undefined_to_null());
                        return Ok(Value::Undefined);
                    }
                }
                self.store(*slot, v.clone());
                Ok(v)
            }
            Kind::IndexAssign { slot, index, value } => self.index_assign(*slot, index, value, pos),
            Kind::Append { slot, value } => self.append(*slot, value, pos),
        }
    }

    /// `a[i] := v`.
    #[inline(never)]
    fn index_assign(&mut self, slot: u32, index: &Node, value: &Node, pos: u32) -> Result<Value> {
        let array = self.read_var(slot);
        if !matches!(array, Value::Array(_) | Value::Undefined) {
            return Err(err(
                ErrorKind::NotAnArray,
                pos,
                "only arrays can be indexed",
            ));
        }
        let offset = self.eval(index)?;
        if array.is_undefined() {
            return self.eval(value);
        }
        if offset.is_undefined() {
            let v = self.eval(value)?;
            self.store(slot, Value::Undefined);
            return Ok(v);
        }
        let i = offset.to_int();
        check_bounds(&array, i, pos)?;
        let v = self.eval(value)?;
        check_nesting(&v, pos)?;
        let mut array = self.take_for_update(slot, array);
        if let Value::Array(items) = &mut array {
            charge_copy_on_write(items, self.ctx, pos)?;
            if let Some(place) = Arc::make_mut(items).get_mut(i as usize) {
                *place = v.clone();
            }
        }
        if matches!(v, Value::Array(_)) {
            check_array_size(&array, self.ctx, pos)?;
        }
        self.store(slot, array);
        Ok(v)
    }

    /// `a[] := v`.
    #[inline(never)]
    fn append(&mut self, slot: u32, value: &Node, pos: u32) -> Result<Value> {
        let array = self.read_var(slot);
        let v = self.eval(value)?;
        check_nesting(&v, pos)?;
        match array {
            Value::Undefined => Ok(v),
            Value::Array(_) => {
                let mut array = self.take_for_update(slot, array);
                if let Value::Array(items) = &mut array {
                    if items.len() >= MAX_ARRAY_LENGTH {
                        return Err(err(
                            ErrorKind::ArrayTooLong,
                            pos,
                            format!("array is longer than {MAX_ARRAY_LENGTH} elements"),
                        ));
                    }
                    charge_copy_on_write(items, self.ctx, pos)?;
                    Arc::make_mut(items).push(v.clone());
                }
                if matches!(v, Value::Array(_)) {
                    check_array_size(&array, self.ctx, pos)?;
                }
                self.store(slot, array);
                Ok(v)
            }
            _ => Err(err(
                ErrorKind::NotAnArray,
                pos,
                "only arrays can be appended to",
            )),
        }
    }

    /// Evaluates an array literal. Kept out of [`Self::eval`] (as the other helpers below)
    /// so that the recursive function's stack frame stays small.
    #[inline(never)]
    fn array_literal(&mut self, items: &[Node], pos: u32) -> Result<Value> {
        if items.len() > MAX_ARRAY_LENGTH {
            return Err(err(ErrorKind::ArrayTooLong, pos, "array literal too long"));
        }
        let mut out = Vec::with_capacity(items.len());
        let mut nested = false;
        for item in items {
            let v = self.eval(item)?;
            check_nesting(&v, pos)?;
            nested |= matches!(v, Value::Array(_));
            out.push(v);
        }
        let array = Value::from(out);
        if nested {
            check_array_size(&array, self.ctx, pos)?;
        }
        Ok(array)
    }

    /// Evaluates the rest of an arithmetic chain onto `acc`.
    #[inline(never)]
    fn arith_chain(&mut self, mut acc: Value, rest: &[(ArithOp, Node, u32)]) -> Result<Value> {
        for (op, rhs, op_pos) in rest {
            let r = self.eval(rhs)?;
            // Concatenation copies both sides; other operators parse strings.
            charge_data(self.ctx, &acc, &r, *op_pos)?;
            acc = arith(*op, acc, r, *op_pos)?;
            if let Value::Array(items) = &acc {
                if items.iter().any(|v| matches!(v, Value::Array(_))) {
                    check_array_size(&acc, self.ctx, *op_pos)?;
                }
            }
        }
        Ok(acc)
    }

    /// Evaluates an operand, borrowing constants from the tree instead of copying them.
    fn operand<'n>(&mut self, node: &'n Node) -> Result<Cow<'n, Value>> {
        if let Kind::Const(v) = &node.kind {
            self.ctx.steps += 1;
            return Ok(Cow::Borrowed(v));
        }
        self.eval(node).map(Cow::Owned)
    }

    #[inline(never)]
    fn call(
        &mut self,
        callee: &Callee,
        args: &[Node],
        pattern: Option<&Arc<crate::pcre::Pattern>>,
        pos: u32,
        values: &mut Vec<Value>,
    ) -> Result<Value> {
        for arg in args {
            let v = self.eval(arg)?;
            values.push(v);
        }
        self.ctx.raise_condition(pos)?;
        let undefined = self.ctx.saw_undefined && values.iter().any(Value::has_undefined);
        match callee {
            Callee::Builtin(b) => {
                if undefined {
                    let nulls: Vec<Value> = values.iter().map(Value::undefined_to_null).collect();
                    call_builtin(*b, &nulls, pattern, self.ctx, pos)?;
                    return Ok(Value::Undefined);
                }
                call_builtin(*b, values, pattern, self.ctx, pos)
            }
            Callee::Host(h) => {
                if undefined {
                    return Ok(Value::Undefined);
                }
                let input: usize = values.iter().map(data_bytes).sum();
                self.ctx.charge_steps(
                    HOST_CALL_STEPS + work_steps(input, HOST_PER_KIB),
                    pos as usize,
                )?;
                let v = h.call(values, self.vars).map_err(|msg| {
                    err(ErrorKind::Extension, pos, format!("{}: {msg}", h.name()))
                })?;
                self.ctx
                    .charge_work(data_bytes(&v), COPY_PER_KIB, pos as usize)?;
                if v.has_undefined() {
                    self.ctx.saw_undefined = true;
                }
                Ok(v)
            }
        }
    }

    fn read_var(&mut self, slot: u32) -> Value {
        let i = slot as usize;
        if let Some(Some(v)) = self.ctx.slots.get(i) {
            return v.clone();
        }
        let Some(info) = self.slots.get(i) else {
            return Value::Undefined;
        };
        if !info.from_host {
            self.ctx.saw_undefined = true;
            return Value::Undefined;
        }
        let v = match info.host_index {
            Some(index) => self.vars.get_declared(index, &info.name),
            None => self.vars.get(&info.name),
        }
        .unwrap_or(Value::Undefined);
        if v.has_undefined() {
            self.ctx.saw_undefined = true;
        }
        if info.cache {
            if let Some(place) = self.ctx.slots.get_mut(i) {
                *place = Some(v.clone());
            }
        }
        v
    }

    fn store(&mut self, slot: u32, v: Value) {
        if let Some(place) = self.ctx.slots.get_mut(slot as usize) {
            *place = Some(v);
        }
    }

    /// Returns the array to modify, taking it out of the slot when the slot still holds the
    /// same array so that it can be changed in place without copying.
    fn take_for_update(&mut self, slot: u32, read: Value) -> Value {
        if let (Value::Array(read_items), Some(Some(Value::Array(stored)))) =
            (&read, self.ctx.slots.get(slot as usize))
        {
            if Arc::ptr_eq(read_items, stored) {
                drop(read);
                return self
                    .ctx
                    .slots
                    .get_mut(slot as usize)
                    .and_then(Option::take)
                    .unwrap_or(Value::Undefined);
            }
        }
        read
    }
}

fn call_builtin(
    b: Builtin,
    args: &[Value],
    pattern: Option<&Arc<crate::pcre::Pattern>>,
    ctx: &mut EvalContext,
    pos: u32,
) -> Result<Value> {
    functions::call(b, args, pattern, ctx, pos as usize)
}

/// Charges comparing, converting or copying two values.
#[inline]
fn charge_data(ctx: &mut EvalContext, a: &Value, b: &Value, pos: u32) -> Result<()> {
    if matches!(a, Value::Str(_) | Value::Array(_)) || matches!(b, Value::Str(_) | Value::Array(_))
    {
        ctx.charge_work(data_bytes(a) + data_bytes(b), COPY_PER_KIB, pos as usize)?;
    }
    Ok(())
}

/// Charges copying an array that is about to be changed when other values share it (so
/// that changing it copies it first).
fn charge_copy_on_write(items: &Arc<Vec<Value>>, ctx: &mut EvalContext, pos: u32) -> Result<()> {
    if Arc::strong_count(items) > 1 {
        ctx.charge_work(
            items.len() * std::mem::size_of::<Value>(),
            COPY_PER_KIB,
            pos as usize,
        )?;
    }
    Ok(())
}

/// Fails if an array built by the rule holds more than [`MAX_ARRAY_LENGTH`] elements in
/// all, nested arrays included (each time they appear), and charges the walk.
///
/// Arrays share their elements, so without this bound `a := [a, a]` repeated would build
/// an array whose string form, comparison or conversion takes time exponential in the
/// number of statements.
fn check_array_size(array: &Value, ctx: &mut EvalContext, pos: u32) -> Result<()> {
    let total = array.nested_len(MAX_ARRAY_LENGTH);
    ctx.charge_work(
        total.unwrap_or(MAX_ARRAY_LENGTH) * std::mem::size_of::<Value>(),
        COPY_PER_KIB,
        pos as usize,
    )?;
    if total.is_none() {
        return Err(err(
            ErrorKind::ArrayTooLong,
            pos,
            format!("arrays hold more than {MAX_ARRAY_LENGTH} elements in all"),
        ));
    }
    Ok(())
}

/// Fails if putting `v` inside an array would nest arrays too deeply.
fn check_nesting(v: &Value, pos: u32) -> Result<()> {
    if matches!(v, Value::Array(_)) && v.array_depth(MAX_ARRAY_DEPTH) >= MAX_ARRAY_DEPTH {
        return Err(err(
            ErrorKind::ArrayTooDeep,
            pos,
            format!("arrays nest deeper than {MAX_ARRAY_DEPTH} levels"),
        ));
    }
    Ok(())
}

fn check_bounds(array: &Value, i: i64, pos: u32) -> Result<()> {
    let len = match array {
        Value::Array(items) => items.len(),
        _ => {
            return Err(err(
                ErrorKind::NotAnArray,
                pos,
                "only arrays can be indexed",
            ))
        }
    };
    if i >= 0 && (i as u64) >= len as u64 {
        return Err(err(
            ErrorKind::IndexOutOfBounds,
            pos,
            format!("index {i} is out of bounds for an array of {len} elements"),
        ));
    }
    if i < 0 {
        return Err(err(
            ErrorKind::NegativeIndex,
            pos,
            format!("negative index {i}"),
        ));
    }
    Ok(())
}

fn index_value(array: &Value, offset: &Value, pos: u32) -> Result<Value> {
    let i = offset.to_int();
    check_bounds(array, i, pos)?;
    match array {
        Value::Array(items) => Ok(items.get(i as usize).cloned().unwrap_or(Value::Null)),
        _ => Err(err(
            ErrorKind::NotAnArray,
            pos,
            "only arrays can be indexed",
        )),
    }
}

/// Unary minus, as AFPData's `unaryMinus`.
pub(crate) fn negate(v: Value) -> Value {
    match v {
        Value::Undefined => Value::Undefined,
        Value::Int(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::Float(-(i as f64)),
        },
        Value::Float(f) => Value::Float(-f),
        // Upstream keeps the operand's type; a string stays a string.
        Value::Str(s) => Value::from(float_to_string(-crate::value::str_to_float(&s))),
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(b),
        Value::Array(items) => Value::Float(-(items.len() as f64)),
    }
}

fn compare(op: CmpOp, l: &Value, r: &Value) -> bool {
    use std::cmp::Ordering::*;
    match op {
        CmpOp::Eq => l.loose_eq(r),
        CmpOp::Ne => !l.loose_eq(r),
        CmpOp::StrictEq => l.strict_eq(r),
        CmpOp::StrictNe => !l.strict_eq(r),
        CmpOp::Lt => l.php_cmp(r) == Less,
        CmpOp::Le => l.php_cmp(r) != Greater,
        CmpOp::Gt => l.php_cmp(r) == Greater,
        CmpOp::Ge => l.php_cmp(r) != Less,
    }
}

/// Binary arithmetic with PHP's int/float rules: integer results stay integers unless they
/// overflow or are fractional.
pub(crate) fn arith(op: ArithOp, a: Value, b: Value, pos: u32) -> Result<Value> {
    match op {
        ArithOp::Add => add(a, b, pos),
        ArithOp::Sub => {
            if a.is_undefined() || b.is_undefined() {
                return Ok(Value::Undefined);
            }
            Ok(match (a.to_number(), b.to_number()) {
                (Num::Int(x), Num::Int(y)) => match x.checked_sub(y) {
                    Some(v) => Value::Int(v),
                    None => Value::Float(x as f64 - y as f64),
                },
                (x, y) => Value::Float(x.as_f64() - y.as_f64()),
            })
        }
        ArithOp::Mul | ArithOp::Div | ArithOp::Mod => {
            if b.is_undefined() {
                return Ok(Value::Undefined);
            }
            let y = b.to_number();
            let zero = match op {
                ArithOp::Div => y.as_f64() == 0.0,
                ArithOp::Mod => y.as_i64() == 0,
                _ => false,
            };
            if zero {
                return Err(err(ErrorKind::DivisionByZero, pos, "division by zero"));
            }
            if a.is_undefined() {
                return Ok(Value::Undefined);
            }
            Ok(multiplicative(op, a.to_number(), y))
        }
        ArithOp::Pow => {
            if a.is_undefined() || b.is_undefined() {
                return Ok(Value::Undefined);
            }
            Ok(pow(a.to_number(), b.to_number()).into_value())
        }
    }
}

/// `a + b`: string concatenation when either is a string, array
/// concatenation when both are arrays, else numeric addition.
#[inline]
fn add(a: Value, b: Value, pos: u32) -> Result<Value> {
    if a.is_undefined() || b.is_undefined() {
        return Ok(Value::Undefined);
    }
    if matches!(a, Value::Str(_)) || matches!(b, Value::Str(_)) {
        let (x, y) = (a.to_str(), b.to_str());
        if x.len() + y.len() > MAX_STRING_LENGTH {
            return Err(err(
                ErrorKind::StringTooLong,
                pos,
                format!("string is longer than {MAX_STRING_LENGTH} bytes"),
            ));
        }
        let mut s = String::with_capacity(x.len() + y.len());
        s.push_str(&x);
        s.push_str(&y);
        return check_string(s, pos);
    }
    if let (Value::Array(x), Value::Array(y)) = (&a, &b) {
        if x.len() + y.len() > MAX_ARRAY_LENGTH {
            return Err(err(
                ErrorKind::ArrayTooLong,
                pos,
                format!("array is longer than {MAX_ARRAY_LENGTH} elements"),
            ));
        }
        let mut items = Vec::with_capacity(x.len() + y.len());
        items.extend(x.iter().cloned());
        items.extend(y.iter().cloned());
        return Ok(Value::from(items));
    }
    Ok(match (a.to_number(), b.to_number()) {
        (Num::Int(x), Num::Int(y)) => match x.checked_add(y) {
            Some(v) => Value::Int(v),
            None => Value::Float(x as f64 + y as f64),
        },
        (x, y) => Value::Float(x.as_f64() + y.as_f64()),
    })
}

/// `x * y`, `x / y` or `x % y` (`op` is one of these three) of numbers,
/// with `y` known not to be zero for division.
#[inline]
fn multiplicative(op: ArithOp, x: Num, y: Num) -> Value {
    match op {
        ArithOp::Mul => match (x, y) {
            (Num::Int(x), Num::Int(y)) => match x.checked_mul(y) {
                Some(v) => Value::Int(v),
                None => Value::Float(x as f64 * y as f64),
            },
            (x, y) => Value::Float(x.as_f64() * y.as_f64()),
        },
        ArithOp::Div => match (x, y) {
            (Num::Int(x), Num::Int(y)) if x.checked_rem(y) == Some(0) => match x.checked_div(y) {
                Some(v) => Value::Int(v),
                None => Value::Float(x as f64 / y as f64),
            },
            (x, y) => Value::Float(x.as_f64() / y.as_f64()),
        },
        _ => {
            let (x, y) = (x.as_i64(), y.as_i64());
            // PHP defines PHP_INT_MIN % -1 as 0.
            Value::Int(x.checked_rem(y).unwrap_or(0))
        }
    }
}

/// PHP's `pow`: integer when both operands are integers, the exponent is not negative and
/// the result fits; float otherwise.
fn pow(base: Num, exp: Num) -> Num {
    if let (Num::Int(b), Num::Int(e)) = (base, exp) {
        if e >= 0 {
            let mut result: i64 = 1;
            let mut acc = b;
            let mut e = e as u64;
            let mut ok = true;
            while e > 0 {
                if e & 1 == 1 {
                    match result.checked_mul(acc) {
                        Some(r) => result = r,
                        None => {
                            ok = false;
                            break;
                        }
                    }
                }
                e >>= 1;
                if e > 0 {
                    match acc.checked_mul(acc) {
                        Some(a) => acc = a,
                        None => {
                            ok = false;
                            break;
                        }
                    }
                }
            }
            if ok {
                return Num::Int(result);
            }
        }
    }
    Num::Float(base.as_f64().powf(exp.as_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_power_overflows_to_float() {
        assert!(matches!(pow(Num::Int(2), Num::Int(10)), Num::Int(1024)));
        assert!(matches!(pow(Num::Int(2), Num::Int(63)), Num::Float(_)));
        assert!(matches!(
            pow(Num::Int(-2), Num::Int(63)),
            Num::Int(i64::MIN)
        ));
        assert!(matches!(pow(Num::Int(2), Num::Int(-1)), Num::Float(f) if f == 0.5));
        assert!(matches!(pow(Num::Int(1), Num::Int(i64::MAX)), Num::Int(1)));
        assert!(matches!(pow(Num::Int(0), Num::Int(0)), Num::Int(1)));
    }
}
