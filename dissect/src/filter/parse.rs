//! Syntax: filter text → an untyped expression tree whose leaves keep their byte offsets.
//!
//! ```text
//! filter  := or EOF
//! or      := and (("||" | "or") and)*
//! and     := not (("&&" | "and") not)*
//! not     := ("!" | "not") not | primary
//! primary := "(" or ")" | field [relop value | "in" set]
//! relop   := "==" | "!=" | "===" | "!==" | "~=" | "<" | "<=" | ">" | ">=" | "~"
//!          | eq | ne | any_eq | all_ne | all_eq | any_ne | lt | le | gt | ge | contains | matches
//! value   := word | "\"" string "\""
//! set     := "{" (value [".." value]) ([","] value [".." value])* "}"
//! ```
//!
//! Values stay raw words here: what `10.0.0.1` or `send` means depends on the field it is compared
//! with, which the compiler (`super`) knows. Keywords are case-insensitive. Lexemes are nom 8
//! parsers; the grammar is parsed without recursion (explicit stacks for parentheses and `not`),
//! so that nesting is bounded by a clean error and every error can say what was expected.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, multispace0};
use nom::combinator::{not, recognize};
use nom::multi::many1;
use nom::sequence::terminated;
use nom::{IResult, Parser as _};

/// How deep parentheses and `not` may nest.
pub(super) const MAX_DEPTH: usize = 256;

/// A syntax error at byte offset `at`.
#[derive(Debug)]
pub(super) struct SyntaxError {
    pub at: usize,
    pub message: String,
}

/// A bare word (field name, number, address, symbolic value) and where it starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Word<'a> {
    pub text: &'a str,
    pub at: usize,
}

/// A value as written.
#[derive(Debug, Clone)]
pub(super) enum Operand<'a> {
    /// A bare word: a field name or a literal whose meaning depends on the field.
    Word(Word<'a>),
    /// A double-quoted string, escapes resolved (`\xNN` may make it non-UTF-8).
    Quoted {
        bytes: Vec<u8>,
        src: &'a str,
        at: usize,
    },
}

impl Operand<'_> {
    /// Byte offset of the value's first character.
    pub fn at(&self) -> usize {
        match self {
            Operand::Word(w) => w.at,
            Operand::Quoted { at, .. } => *at,
        }
    }

    /// The value as the user wrote it (quotes included).
    pub fn src(&self) -> &str {
        match self {
            Operand::Word(w) => w.text,
            Operand::Quoted { src, .. } => src,
        }
    }
}

/// A relation as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rel {
    /// `==`, `eq`, `any_eq`.
    AnyEq,
    /// `!=`, `ne`, `all_ne`.
    AllNe,
    /// `===`, `all_eq`.
    AllEq,
    /// `~=`, `!==`, `any_ne`.
    AnyNe,
    /// `<`, `lt`.
    Lt,
    /// `<=`, `le`.
    Le,
    /// `>`, `gt`.
    Gt,
    /// `>=`, `ge`.
    Ge,
    /// `contains`.
    Contains,
    /// `matches`, `~`.
    Matches,
    /// `in`.
    In,
}

/// One element of an `in` set.
#[derive(Debug, Clone)]
pub(super) enum SetElem<'a> {
    /// A single value.
    One(Operand<'a>),
    /// An inclusive range `lo..hi`.
    Range(Operand<'a>, Operand<'a>),
}

/// The right-hand side of a relation.
#[derive(Debug, Clone)]
pub(super) enum Rhs<'a> {
    /// A value or a field.
    One(Operand<'a>),
    /// `{ … }` after `in`.
    Set(Vec<SetElem<'a>>),
}

/// A relation: `field op rhs`.
#[derive(Debug, Clone)]
pub(super) struct Relation<'a> {
    pub rel: Rel,
    /// The operator as written, and where.
    pub op: Word<'a>,
    pub rhs: Rhs<'a>,
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub(super) enum Expr<'a> {
    /// Any operand true (two or more).
    Or(Vec<Expr<'a>>),
    /// Every operand true (two or more).
    And(Vec<Expr<'a>>),
    /// Negation.
    Not(Box<Expr<'a>>),
    /// A field alone (existence) or in a relation.
    Test {
        field: Word<'a>,
        relation: Option<Relation<'a>>,
    },
}

type PResult<'a, T> = Result<(&'a str, T), SyntaxError>;

/// Parses a whole filter.
pub(super) fn parse(src: &str) -> Result<Expr<'_>, SyntaxError> {
    Grammar { src }.filter()
}

struct Grammar<'a> {
    src: &'a str,
}

/// An open parenthesis (or the whole filter) while its contents are parsed.
struct Level<'a> {
    /// Byte offset of the `(` (`None`: the whole filter).
    open: Option<usize>,
    /// `not`s written just before the `(`, applied when it closes.
    nots: usize,
    /// Finished `&&` groups, joined by `||`.
    ors: Vec<Expr<'a>>,
    /// Operands of the current `&&` group.
    ands: Vec<Expr<'a>>,
}

impl<'a> Level<'a> {
    fn new(open: Option<usize>, nots: usize) -> Self {
        Level {
            open,
            nots,
            ors: Vec::new(),
            ands: Vec::new(),
        }
    }

    fn end_and(&mut self) {
        let mut ands = std::mem::take(&mut self.ands);
        self.ors.push(if ands.len() == 1 {
            ands.pop().expect("one operand")
        } else {
            Expr::And(ands)
        });
    }

    fn finish(mut self) -> Expr<'a> {
        self.end_and();
        let mut ors = self.ors;
        if ors.len() == 1 {
            ors.pop().expect("one operand")
        } else {
            Expr::Or(ors)
        }
    }
}

fn negate(mut e: Expr<'_>, nots: usize) -> Expr<'_> {
    for _ in 0..nots {
        e = Expr::Not(Box::new(e));
    }
    e
}

impl<'a> Grammar<'a> {
    fn offset(&self, rest: &str) -> usize {
        self.src.len() - rest.len()
    }

    fn error(&self, rest: &str, message: String) -> SyntaxError {
        SyntaxError {
            at: self.offset(rest),
            message,
        }
    }

    fn word(&self, i: &'a str) -> Option<(&'a str, Word<'a>)> {
        let (rest, text) = word(i).ok()?;
        Some((
            rest,
            Word {
                text,
                at: self.offset(i),
            },
        ))
    }

    /// `i` after the keyword `kw` (a whole word, any case).
    fn keyword(&self, i: &'a str, kw: &str) -> Option<&'a str> {
        self.word(i)
            .filter(|(_, w)| w.text.eq_ignore_ascii_case(kw))
            .map(|(rest, _)| rest)
    }

    /// The whole grammar, without recursion: parentheses and pending `not`s live on explicit
    /// stacks, so neither deep nesting nor long chains can exhaust the call stack.
    fn filter(&self) -> Result<Expr<'a>, SyntaxError> {
        let mut open: Vec<Level<'a>> = Vec::new();
        let mut level = Level::new(None, 0);
        let mut nots = 0;
        let mut depth = 0;
        let mut i = self.src;
        loop {
            // An operand: `not`s and `(`s, then a test.
            let j = ws(i);
            let after_not = if j.starts_with('!') && !j.starts_with("!=") {
                Some(&j[1..])
            } else {
                self.keyword(j, "not")
            };
            let opening = j.strip_prefix('(');
            if after_not.is_some() || opening.is_some() {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(self.error(
                        j,
                        format!("filter nested too deeply: at most {MAX_DEPTH} levels of parentheses and 'not'"),
                    ));
                }
                if let Some(k) = after_not {
                    nots += 1;
                    i = k;
                } else if let Some(k) = opening {
                    let outer =
                        std::mem::replace(&mut level, Level::new(Some(self.offset(j)), nots));
                    open.push(outer);
                    nots = 0;
                    i = k;
                }
                continue;
            }
            let (rest, test, has_relation) = self.test(j)?;
            depth -= nots;
            level.ands.push(negate(test, nots));
            nots = 0;
            i = rest;
            // Then `)`s, and `&&`, `||` or the end.
            let mut closed = false;
            loop {
                let j = ws(i);
                if let Some(k) = j.strip_prefix("&&").or_else(|| self.keyword(j, "and")) {
                    i = k;
                    break;
                }
                if let Some(k) = j.strip_prefix("||").or_else(|| self.keyword(j, "or")) {
                    level.end_and();
                    i = k;
                    break;
                }
                if let (Some(k), Some(outer)) = (j.strip_prefix(')'), open.pop()) {
                    let inner = std::mem::replace(&mut level, outer);
                    depth -= 1 + inner.nots;
                    let nots = inner.nots;
                    level.ands.push(negate(inner.finish(), nots));
                    closed = true;
                    i = k;
                    continue;
                }
                let operator = if has_relation || closed {
                    ""
                } else {
                    "a comparison operator, "
                };
                return Err(match level.open {
                    Some(at) => self.error(
                        j,
                        format!(
                            "expected {operator}'&&', '||' or ')' to close the '(' at column {}, found {}{}",
                            column(self.src, at),
                            describe(j),
                            hint(j)
                        ),
                    ),
                    None if j.is_empty() => return Ok(level.finish()),
                    None => self.error(
                        j,
                        format!(
                            "expected {operator}'&&', '||' or the end of the filter, found {}{}",
                            describe(j),
                            hint(j)
                        ),
                    ),
                });
            }
        }
    }

    /// A field, alone or in a relation; the flag tells which.
    fn test(&self, i: &'a str) -> Result<(&'a str, Expr<'a>, bool), SyntaxError> {
        let field = match self.word(i) {
            Some((_, w)) if is_logic_keyword(w.text) => None,
            w => w,
        };
        let Some((rest, field)) = field else {
            return Err(self.error(i, format!("expected a field name, found {}", describe(i))));
        };
        let (rest, relation) = self.relation(rest)?;
        let has_relation = relation.is_some();
        Ok((rest, Expr::Test { field, relation }, has_relation))
    }

    /// An optional `op value` or `in {set}` after a field.
    fn relation(&self, i: &'a str) -> PResult<'a, Option<Relation<'a>>> {
        let j = ws(i);
        let (k, op, rel) = if let Ok((k, sym)) = symbol_op(j) {
            let rel = match sym {
                "==" => Rel::AnyEq,
                "!=" => Rel::AllNe,
                "===" => Rel::AllEq,
                "!==" | "~=" => Rel::AnyNe,
                "<" => Rel::Lt,
                "<=" => Rel::Le,
                ">" => Rel::Gt,
                ">=" => Rel::Ge,
                _ => Rel::Matches,
            };
            (
                k,
                Word {
                    text: sym,
                    at: self.offset(j),
                },
                rel,
            )
        } else {
            let Some((k, w)) = self.word(j) else {
                return Ok((i, None));
            };
            let rel = match w.text.to_ascii_lowercase().as_str() {
                "eq" | "any_eq" => Rel::AnyEq,
                "ne" | "all_ne" => Rel::AllNe,
                "all_eq" => Rel::AllEq,
                "any_ne" => Rel::AnyNe,
                "lt" => Rel::Lt,
                "le" => Rel::Le,
                "gt" => Rel::Gt,
                "ge" => Rel::Ge,
                "contains" => Rel::Contains,
                "matches" => Rel::Matches,
                "in" => Rel::In,
                _ => return Ok((i, None)),
            };
            (k, w, rel)
        };
        let (rest, rhs) = if rel == Rel::In {
            let (rest, set) = self.set(k, op)?;
            (rest, Rhs::Set(set))
        } else {
            let j = ws(k);
            let (rest, v) = self.operand(j, || {
                format!(
                    "expected a value after '{}', found {}",
                    op.text,
                    describe(j)
                )
            })?;
            (rest, Rhs::One(v))
        };
        Ok((rest, Some(Relation { rel, op, rhs })))
    }

    /// A quoted string or a bare word (not a logic keyword).
    fn operand(&self, i: &'a str, expected: impl Fn() -> String) -> PResult<'a, Operand<'a>> {
        if i.starts_with('"') {
            return self.quoted(i);
        }
        match self.word(i) {
            Some((rest, w)) if !is_logic_keyword(w.text) => Ok((rest, Operand::Word(w))),
            _ => Err(self.error(i, expected())),
        }
    }

    fn set(&self, i: &'a str, op: Word<'a>) -> PResult<'a, Vec<SetElem<'a>>> {
        let j = ws(i);
        let Some(mut i) = j.strip_prefix('{') else {
            return Err(self.error(
                j,
                format!(
                    "expected '{{' to open a set after '{}', found {}",
                    op.text,
                    describe(j)
                ),
            ));
        };
        let open = self.offset(j);
        let mut elems = Vec::new();
        loop {
            let j = ws(i);
            if let Some(rest) = j.strip_prefix('}') {
                if elems.is_empty() {
                    return Err(self.error(
                        j,
                        "expected a value in the set, found '}' (a set cannot be empty)".into(),
                    ));
                }
                return Ok((rest, elems));
            }
            let j = if elems.is_empty() {
                j
            } else {
                j.strip_prefix(',').map_or(j, ws)
            };
            let unclosed = |j: &str| {
                if j.is_empty() {
                    format!(
                        "expected '}}' to close the set at column {}, found the end of the filter",
                        column(self.src, open)
                    )
                } else {
                    format!("expected a value or '}}' in the set, found {}", describe(j))
                }
            };
            let (rest, lo) = self.operand(j, || unclosed(j))?;
            let k = ws(rest);
            if let Some(k) = k.strip_prefix("..") {
                let k = ws(k);
                let (rest, hi) = self.operand(k, || {
                    format!(
                        "expected the end of the range after '..', found {}",
                        describe(k)
                    )
                })?;
                elems.push(SetElem::Range(lo, hi));
                i = rest;
            } else {
                elems.push(SetElem::One(lo));
                i = rest;
            }
        }
    }

    /// `"…"` with `\"`, `\\`, `\xNN`, `\n`, `\r`, `\t`, `\0` escapes.
    fn quoted(&self, i: &'a str) -> PResult<'a, Operand<'a>> {
        let at = self.offset(i);
        let mut bytes = Vec::new();
        let mut chars = i.char_indices().skip(1);
        while let Some((k, c)) = chars.next() {
            match c {
                '"' => {
                    let rest = &i[k + 1..];
                    return Ok((
                        rest,
                        Operand::Quoted {
                            bytes,
                            src: &i[..=k],
                            at,
                        },
                    ));
                }
                '\\' => {
                    let esc_at = &i[k..];
                    let bad = || {
                        self.error(
                            esc_at,
                            format!(
                                "invalid escape {} in string: use \\\", \\\\, \\xNN, \\n, \\r, \\t or \\0",
                                describe_escape(esc_at)
                            ),
                        )
                    };
                    match chars.next().map(|(_, c)| c) {
                        Some('"') => bytes.push(b'"'),
                        Some('\\') => bytes.push(b'\\'),
                        Some('n') => bytes.push(b'\n'),
                        Some('r') => bytes.push(b'\r'),
                        Some('t') => bytes.push(b'\t'),
                        Some('0') => bytes.push(0),
                        Some('x') => {
                            let hi = chars.next().and_then(|(_, c)| c.to_digit(16));
                            let lo = chars.next().and_then(|(_, c)| c.to_digit(16));
                            match (hi, lo) {
                                (Some(h), Some(l)) => bytes.push((h * 16 + l) as u8),
                                _ => return Err(bad()),
                            }
                        }
                        _ => return Err(bad()),
                    }
                }
                c => {
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        Err(self.error(i, "unterminated string: expected a closing '\"'".into()))
    }
}

fn is_logic_keyword(w: &str) -> bool {
    ["and", "or", "not"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

/// Characters of a bare word: field names, numbers, addresses, byte strings, symbolic values.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/')
}

/// Skips whitespace (spaces, tabs, newlines).
fn ws(i: &str) -> &str {
    let r: IResult<&str, &str> = multispace0.parse(i);
    r.map_or(i, |(rest, _)| rest)
}

/// A bare word; a `..` (range) ends it.
fn word(i: &str) -> IResult<&str, &str> {
    recognize(many1(alt((
        take_while1(is_word_char),
        terminated(tag("."), not(char('.'))),
    ))))
    .parse(i)
}

/// A symbolic relational operator (longest first).
fn symbol_op(i: &str) -> IResult<&str, &str> {
    alt((
        tag("==="),
        tag("=="),
        tag("!=="),
        tag("!="),
        tag("~="),
        tag("<="),
        tag(">="),
        tag("<"),
        tag(">"),
        tag("~"),
    ))
    .parse(i)
}

/// The token at the start of `i`, quoted, for error messages.
pub(super) fn describe(i: &str) -> String {
    if i.is_empty() {
        return "the end of the filter".into();
    }
    if let Ok((_, w)) = word(i) {
        return format!("'{w}'");
    }
    if let Ok((_, op)) = symbol_op(i) {
        return format!("'{op}'");
    }
    for two in ["&&", "||", ".."] {
        if i.starts_with(two) {
            return format!("'{two}'");
        }
    }
    let c = i.chars().next().expect("non-empty");
    if c == '"' {
        "a string".into()
    } else if c.is_control() {
        format!("{:?}", c)
    } else {
        format!("'{c}'")
    }
}

fn describe_escape(i: &str) -> String {
    let n = if i[1..].starts_with('x') { 4 } else { 2 };
    let esc: String = i.chars().take(n).take_while(|c| *c != '"').collect();
    printable(&esc)
}

/// `s` with control characters escaped, so that a message stays on one line.
pub(super) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A hint for a single character where a two-character operator was probably meant.
fn hint(i: &str) -> &'static str {
    match i.chars().next() {
        Some('=') => " (did you mean '=='?)",
        Some('&') => " (did you mean '&&'?)",
        Some('|') => " (did you mean '||'?)",
        Some('[') => " (slices like [0:3] are not supported)",
        _ => "",
    }
}

/// 1-based character column of byte offset `at` in `src`.
pub(super) fn column(src: &str, at: usize) -> usize {
    src.get(..at).map_or(at, |s| s.chars().count()) + 1
}
