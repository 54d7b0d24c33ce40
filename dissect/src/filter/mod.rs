//! Display filters (`-Y`, `-R`): a practical subset of Wireshark's language with tshark 4.0
//! semantics, compiled once against the field registry and evaluated on every frame's [`Tree`].
//!
//! ```text
//! iwarp_mpa                                   a field is present
//! iwarp_rdma.opcode == send_se_advertise      == != < <= > >=  (eq ne lt le gt ge)
//! ip.src == 10.0.0.0/24 && !tcp.analysis.retransmission
//! oneshot.stag in {0x100 0x200..0x2ff}        sets, ranges inclusive
//! tcp.payload contains 00:01:02 || frame contains "GET"
//! tcp.srcport == tcp.dstport                  field against field
//! ```
//!
//! Precedence: `!`/`not` binds tightest, then `&&`/`and`, then `||`/`or`; parentheses group.
//!
//! A field may occur several times in a frame. `==`, `<`, `<=`, `>`, `>=`, `contains` and `in`
//! hold when **any** occurrence satisfies them; `!=` (`all_ne`) holds when **no** occurrence is
//! equal; `~=` (`!==`, `any_ne`) when some occurrence is not equal; `===` (`all_eq`) when every
//! occurrence is equal. Every relation is false when its field is absent, so `!=` is not the
//! negation of `==` (`!(tcp.port == 80)` also matches frames without TCP).
//!
//! Literals take their meaning from the field they are compared with: integers (`42`, `0x2a`,
//! `0o52`, `0b101010`; a leading `0` alone is rejected as ambiguous), value names
//! (`send_with_se`, matched case-insensitively with non-alphanumerics read as `_`), booleans
//! (`1 0 true false`), seconds for times (`0.5`), MAC addresses (`02:00:00:00:00:01`,
//! `02-00-…`), IPv4/IPv6 addresses with an optional `/prefix`, byte strings (`aa:bb:cc`) and
//! strings (`"a \"quoted\" \x41"`, or a bare word for string fields).
//!
//! Not supported: `matches` (no regular-expression engine in this crate), slices
//! (`eth.src[0:3]`), functions (`len()`, `upper()`), arithmetic, field references (`${…}`) and
//! host names.

mod eval;
mod literal;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use crate::field::{self, FieldDef, FieldId};
use crate::tree::Tree;

use eval::{Op, Prog, Quant, Rhs, SetItem};
use literal::{Class, literal};
use parse::{Expr, Operand, Rel, Relation, SetElem, Word, printable};

/// A compiled display filter.
///
/// Compile once with [`Filter::compile`], then call [`Filter::matches`] on every frame's tree.
#[derive(Debug, Clone)]
pub struct Filter {
    text: String,
    prog: Prog,
    fields: Vec<FieldId>,
}

/// Why a filter does not compile: a message naming the problem and what would be right, and the
/// 1-based character column it is at.
///
/// Its `Display` is the message and column on the first line (which stands alone, e.g. for a
/// status bar), then the filter and a caret under the column:
///
/// ```text
/// unknown field "ip.scr"; did you mean ip.src? (column 1)
///     ip.scr == 10.0.0.1
///     ^
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (column {col})\n{}", caret(.text, .col))]
pub struct FilterError {
    /// 1-based column, in characters, of the offending token (one past the end for "unexpected
    /// end of filter").
    pub col: usize,
    /// What is wrong and what would be right, e.g. `expected a value after '==', found the end of
    /// the filter`.
    pub message: String,
    /// The whole filter text.
    pub text: String,
}

impl FilterError {
    fn new(text: &str, at: usize, message: String) -> FilterError {
        FilterError {
            col: parse::column(text, at),
            message,
            text: text.to_owned(),
        }
    }
}

/// The filter line and the caret line of [`FilterError`]'s `Display`, each indented by four
/// spaces; control characters (newlines, tabs) show as spaces and a long filter is cut to a
/// window around the column.
fn caret(text: &str, col: &usize) -> String {
    const WIDTH: usize = 100;
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let col = (*col).max(1) - 1;
    let (start, end) = if chars.len() <= WIDTH {
        (0, chars.len())
    } else {
        let start = col
            .saturating_sub(WIDTH / 2)
            .min(chars.len().saturating_sub(WIDTH));
        (start, (start + WIDTH).min(chars.len()))
    };
    let mut out = String::from("    ");
    let mut caret_at = col - start;
    if start > 0 {
        out.push('…');
        caret_at += 1;
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    let _ = write!(out, "\n    {}^", " ".repeat(caret_at));
    out
}

impl Filter {
    /// Compiles `text` against the field registry.
    ///
    /// Fails with the column of the first problem: a syntax error (saying what was expected), an
    /// unknown field (with "did you mean"), a value that does not fit its field's type, a
    /// relation the field's type does not support, or nesting deeper than 256 levels.
    pub fn compile(text: &str) -> Result<Filter, FilterError> {
        let expr = parse::parse(text).map_err(|e| FilterError::new(text, e.at, e.message))?;
        let mut fields = Vec::new();
        let prog = Compiler {
            fields: &mut fields,
        }
        .expr(&expr)
        .map_err(|(at, message)| FilterError::new(text, at, message))?;
        fields.sort_unstable();
        fields.dedup();
        Ok(Filter {
            text: text.to_owned(),
            prog,
            fields,
        })
    }

    /// True when the frame matches. `tree` is the frame's decoded tree and `frame` its octets
    /// (byte fields and `contains` on protocols read them). Allocates nothing.
    pub fn matches(&self, tree: &Tree, frame: &[u8]) -> bool {
        self.prog.eval(tree, frame)
    }

    /// The fields the filter reads, sorted, without duplicates: a dissector may skip adding
    /// nodes no printer or filter needs.
    pub fn fields(&self) -> Vec<FieldId> {
        self.fields.clone()
    }

    /// The filter as it was written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// `"…".parse::<Filter>()` is [`Filter::compile`] (handy for clap's `value_parser`).
impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(text: &str) -> Result<Filter, FilterError> {
        Filter::compile(text)
    }
}

/// An error at a byte offset.
type Fail = (usize, String);

/// Resolves a parsed expression against the registry.
struct Compiler<'f> {
    /// Every field referenced so far (for [`Filter::fields`]).
    fields: &'f mut Vec<FieldId>,
}

impl Compiler<'_> {
    /// Compiles `e` (the recursion is bounded by the parser's nesting limit).
    fn expr(&mut self, e: &Expr<'_>) -> Result<Prog, Fail> {
        Ok(match e {
            Expr::Or(v) => Prog::Or(v.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?),
            Expr::And(v) => Prog::And(v.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?),
            Expr::Not(e) => Prog::Not(Box::new(self.expr(e)?)),
            Expr::Test { field, relation } => {
                let id = self.field(field)?;
                match relation {
                    None => Prog::Exists(id),
                    Some(r) => self.relation(id, r)?,
                }
            }
        })
    }

    /// The field named `w`, or "unknown field" with the nearest names.
    fn field(&mut self, w: &Word<'_>) -> Result<FieldId, Fail> {
        match field::lookup(w.text) {
            Some(id) => {
                self.fields.push(id);
                Ok(id)
            }
            None => {
                let mut message = format!("unknown field \"{}\"", w.text);
                let near = field::suggest(w.text);
                if !near.is_empty() {
                    let _ = write!(message, "; did you mean {}?", or_list(&near));
                }
                Err((w.at, message))
            }
        }
    }

    /// `field op rhs`, checked against the field's type.
    fn relation(&mut self, id: FieldId, r: &Relation<'_>) -> Result<Prog, Fail> {
        let def = id.def();
        let class = Class::of(def.ftype);
        let (op, quant) = match r.rel {
            Rel::AnyEq => (Op::Eq, Quant::Any),
            Rel::AllNe => (Op::Ne, Quant::All),
            Rel::AllEq => (Op::Eq, Quant::All),
            Rel::AnyNe => (Op::Ne, Quant::Any),
            Rel::Lt => (Op::Lt, Quant::Any),
            Rel::Le => (Op::Le, Quant::Any),
            Rel::Gt => (Op::Gt, Quant::Any),
            Rel::Ge => (Op::Ge, Quant::Any),
            Rel::Contains => (Op::Contains, Quant::Any),
            Rel::In => (Op::In, Quant::Any),
            Rel::Matches => {
                return Err((
                    r.op.at,
                    "'matches' (regular expressions) is not supported; use 'contains' or '=='"
                        .into(),
                ));
            }
        };
        match class {
            Class::NoValue => {
                return Err((
                    r.op.at,
                    format!(
                        "{} ({}) has no value to compare: test only whether it is present, as in '{0}' or '!{0}'",
                        def.abbrev,
                        def.ftype.name()
                    ),
                ));
            }
            Class::Protocol if op != Op::Contains => {
                return Err((
                    r.op.at,
                    format!(
                        "{} is a protocol ({}) with no value to compare: test whether it is present ('{0}') or search its bytes with 'contains'",
                        def.abbrev,
                        def.ftype.name()
                    ),
                ));
            }
            _ if op == Op::Contains && !class.searchable() => {
                return Err((
                    r.op.at,
                    format!(
                        "'contains' needs a string, byte-string or protocol field, and {} is {}; use '==' or 'in'",
                        def.abbrev,
                        def.ftype.name()
                    ),
                ));
            }
            _ => {}
        }
        let rhs = match &r.rhs {
            parse::Rhs::Set(elems) => {
                let mut set = Vec::with_capacity(elems.len());
                for e in elems {
                    set.push(match e {
                        SetElem::One(v) => SetItem::One(literal(def, class, op, v)?),
                        SetElem::Range(lo, hi) => {
                            let l = literal(def, class, Op::Le, lo)?;
                            let h = literal(def, class, Op::Le, hi)?;
                            if l.gt_lit(&h) {
                                return Err((
                                    lo.at(),
                                    format!(
                                        "empty range {}..{}: the first bound must not exceed the second",
                                        printable(lo.src()),
                                        printable(hi.src())
                                    ),
                                ));
                            }
                            SetItem::Range(l, h)
                        }
                    });
                }
                Rhs::Set(set.into_boxed_slice())
            }
            parse::Rhs::One(v) => match self.other_field(def, class, op, v)? {
                Some(g) => Rhs::Field(g),
                None => Rhs::Lit(literal(def, class, op, v)?),
            },
        };
        Ok(Prog::Cmp {
            field: id,
            op,
            quant,
            rhs,
        })
    }

    /// The right-hand side as a field, when it names one that has a value.
    fn other_field(
        &mut self,
        def: &FieldDef,
        class: Class,
        op: Op,
        v: &Operand<'_>,
    ) -> Result<Option<FieldId>, Fail> {
        let Operand::Word(w) = v else { return Ok(None) };
        let Some(g) = field::lookup(w.text) else {
            return Ok(None);
        };
        let gdef = g.def();
        let gclass = Class::of(gdef.ftype);
        let Some(group) = gclass.group() else {
            return Ok(None);
        };
        let ok = if op == Op::Contains {
            matches!(gclass, Class::Bytes | Class::Str | Class::Ether)
        } else {
            class.group() == Some(group)
        };
        if !ok {
            let mut message = format!(
                "cannot compare {} ({}) with the field {} ({})",
                def.abbrev,
                def.ftype.name(),
                gdef.abbrev,
                gdef.ftype.name()
            );
            if matches!(class, Class::Str | Class::Bytes | Class::Protocol) {
                let _ = write!(
                    message,
                    "; to compare with the text, quote it: \"{}\"",
                    w.text
                );
            }
            return Err((w.at, message));
        }
        self.fields.push(g);
        Ok(Some(g))
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
