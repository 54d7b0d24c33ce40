//! The compiled form of a filter and its evaluation over one frame's tree.
//!
//! Field ids and literal values are resolved at compile time; evaluation scans `tree.nodes` once
//! per referenced field (per pair of occurrences for field-to-field relations) and allocates
//! nothing.

use std::cmp::Ordering;

use crate::field::FieldId;
use crate::tree::{Node, Tree, Value};

/// A compiled expression.
#[derive(Debug, Clone)]
pub(super) enum Prog {
    /// Any operand true.
    Or(Box<[Prog]>),
    /// Every operand true.
    And(Box<[Prog]>),
    /// Negation.
    Not(Box<Prog>),
    /// The field occurs in the frame.
    Exists(FieldId),
    /// A relation between the occurrences of `field` and `rhs`.
    Cmp {
        field: FieldId,
        op: Op,
        quant: Quant,
        rhs: Rhs,
    },
}

/// The elementary test applied to one pair of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    /// Membership of an `in` set (the right-hand side is a [`Rhs::Set`]).
    In,
}

/// How the pair tests combine over the occurrences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quant {
    /// Some pair satisfies the test.
    Any,
    /// Both sides occur and every pair satisfies the test.
    All,
}

/// The right-hand side, resolved.
#[derive(Debug, Clone)]
pub(super) enum Rhs {
    /// A constant.
    Lit(Lit),
    /// Every occurrence of another field.
    Field(FieldId),
    /// An `in` set.
    Set(Box<[SetItem]>),
}

/// One element of a set.
#[derive(Debug, Clone)]
pub(super) enum SetItem {
    /// Equal to the value.
    One(Lit),
    /// Between the bounds, inclusive.
    Range(Lit, Lit),
}

/// A constant, in the representation [`scalar`] gives the tree's values.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    /// Integers, booleans (0/1) and times (nanoseconds).
    Int(i128),
    /// `FT_DOUBLE`.
    Float(f64),
    /// A MAC address.
    Ether([u8; 6]),
    /// An IPv4 address and its netmask (all ones for a single address); `addr` is masked.
    V4 { addr: u32, mask: u32 },
    /// An IPv6 address and its netmask; `addr` is masked.
    V6 { addr: u128, mask: u128 },
    /// Strings and byte strings.
    Bytes(Box<[u8]>),
}

impl Lit {
    fn scalar(&self) -> Scalar<'_> {
        match self {
            Lit::Int(v) => Scalar::Int(*v),
            Lit::Float(v) => Scalar::Float(*v),
            Lit::Ether(v) => Scalar::Ether(*v),
            Lit::V4 { addr, mask } => Scalar::V4(*addr, *mask),
            Lit::V6 { addr, mask } => Scalar::V6(*addr, *mask),
            Lit::Bytes(v) => Scalar::Bytes(v),
        }
    }
}

/// A value borrowed from the tree (or a literal), ready to compare.
#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Int(i128),
    Float(f64),
    Ether([u8; 6]),
    /// Address and netmask (all ones for a tree value).
    V4(u32, u32),
    V6(u128, u128),
    Bytes(&'a [u8]),
}

/// A node's value as a [`Scalar`]; valueless nodes (protocols) give their octets.
fn scalar<'a>(tree: &'a Tree, frame: &'a [u8], n: &Node) -> Scalar<'a> {
    match n.value {
        Value::Bool(b) => Scalar::Int(i128::from(b)),
        Value::Uint(v) => Scalar::Int(i128::from(v)),
        Value::Int(v) | Value::AbsTime(v) | Value::RelTime(v) => Scalar::Int(i128::from(v)),
        Value::Double(v) => Scalar::Float(v),
        Value::Ether(v) => Scalar::Ether(v),
        Value::Ipv4(v) => Scalar::V4(u32::from_be_bytes(v), u32::MAX),
        Value::Ipv6(v) => Scalar::V6(u128::from_be_bytes(v), u128::MAX),
        Value::Str(s) => Scalar::Bytes(s.as_bytes()),
        Value::Text(start, len) => Scalar::Bytes(tree.arena_str((start, len)).as_bytes()),
        Value::Bytes | Value::None => Scalar::Bytes(tree.node_bytes(frame, n)),
    }
}

/// `a` compared with `b`; `None` when they cannot be compared.
fn compare(a: Scalar<'_>, b: Scalar<'_>) -> Option<Ordering> {
    match (a, b) {
        (Scalar::Int(x), Scalar::Int(y)) => Some(x.cmp(&y)),
        (Scalar::Float(x), Scalar::Float(y)) => x.partial_cmp(&y),
        (Scalar::Int(x), Scalar::Float(y)) => (x as f64).partial_cmp(&y),
        (Scalar::Float(x), Scalar::Int(y)) => x.partial_cmp(&(y as f64)),
        (Scalar::Ether(x), Scalar::Ether(y)) => Some(x.cmp(&y)),
        // The right-hand netmask applies to the left address (a subnet literal).
        (Scalar::V4(x, _), Scalar::V4(y, m)) => Some((x & m).cmp(&y)),
        (Scalar::V6(x, _), Scalar::V6(y, m)) => Some((x & m).cmp(&y)),
        (Scalar::Bytes(x), Scalar::Bytes(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn bytes_of<'s>(s: &'s Scalar<'_>) -> Option<&'s [u8]> {
    match s {
        Scalar::Bytes(b) => Some(b),
        Scalar::Ether(e) => Some(e),
        _ => None,
    }
}

/// The elementary test `a op b` (not for [`Op::In`]).
fn test(op: Op, a: Scalar<'_>, b: Scalar<'_>) -> bool {
    if op == Op::Contains {
        return match (bytes_of(&a), bytes_of(&b)) {
            (Some(h), Some(n)) => n.is_empty() || h.windows(n.len()).any(|w| w == n),
            _ => false,
        };
    }
    compare(a, b).is_some_and(|ord| holds(op, ord))
}

/// Whether `op` holds for operands that compare as `ord` (`Contains` never gets here).
#[inline]
fn holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq | Op::In => ord.is_eq(),
        Op::Ne => ord.is_ne(),
        Op::Lt => ord.is_lt(),
        Op::Le => ord.is_le(),
        Op::Gt => ord.is_gt(),
        Op::Ge => ord.is_ge(),
        Op::Contains => false,
    }
}

/// `n op lit`, with a fast path for integer values (most filters).
#[inline]
fn test_lit(op: Op, tree: &Tree, frame: &[u8], n: &Node, lit: &Lit) -> bool {
    if let Lit::Int(v) = lit {
        let x = match n.value {
            Value::Uint(x) => i128::from(x),
            Value::Int(x) | Value::RelTime(x) | Value::AbsTime(x) => i128::from(x),
            Value::Bool(b) => i128::from(b),
            _ => return test(op, scalar(tree, frame, n), lit.scalar()),
        };
        return holds(op, x.cmp(v));
    }
    test(op, scalar(tree, frame, n), lit.scalar())
}

/// The nodes of `field`.
#[inline]
fn occurrences(tree: &Tree, field: FieldId) -> impl Iterator<Item = &Node> {
    tree.nodes.iter().filter(move |n| n.field == field)
}

/// Some node satisfies `p` ([`Quant::Any`]), or there are nodes and all do ([`Quant::All`]).
#[inline]
fn quantify<'t>(
    quant: Quant,
    mut nodes: impl Iterator<Item = &'t Node>,
    mut p: impl FnMut(&Node) -> bool,
) -> bool {
    match quant {
        Quant::Any => nodes.any(p),
        Quant::All => nodes.next().is_some_and(&mut p) && nodes.all(p),
    }
}

fn in_set(a: Scalar<'_>, set: &[SetItem]) -> bool {
    set.iter().any(|item| match item {
        SetItem::One(l) => compare(a, l.scalar()).is_some_and(Ordering::is_eq),
        SetItem::Range(lo, hi) => {
            compare(a, lo.scalar()).is_some_and(Ordering::is_ge)
                && compare(a, hi.scalar()).is_some_and(Ordering::is_le)
        }
    })
}

impl Prog {
    /// True when the frame whose tree is `tree` matches.
    pub(super) fn eval(&self, tree: &Tree, frame: &[u8]) -> bool {
        match self {
            Prog::Or(v) => v.iter().any(|p| p.eval(tree, frame)),
            Prog::And(v) => v.iter().all(|p| p.eval(tree, frame)),
            Prog::Not(p) => !p.eval(tree, frame),
            Prog::Exists(f) => tree.nodes.iter().any(|n| n.field == *f),
            Prog::Cmp {
                field,
                op,
                quant,
                rhs,
            } => {
                let (op, quant) = (*op, *quant);
                let lhs = occurrences(tree, *field);
                match rhs {
                    Rhs::Lit(l) => quantify(quant, lhs, |n| test_lit(op, tree, frame, n, l)),
                    Rhs::Set(set) => quantify(quant, lhs, |n| in_set(scalar(tree, frame, n), set)),
                    Rhs::Field(g) => quantify(quant, lhs, |n| {
                        let a = scalar(tree, frame, n);
                        quantify(quant, occurrences(tree, *g), |m| {
                            test(op, a, scalar(tree, frame, m))
                        })
                    }),
                }
            }
        }
    }
}
