//! Splitting one line into tokens (nom), and a cursor over them that produces the messages for
//! missing or wrong words.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_till, take_while},
    character::complete::{char, one_of, satisfy},
    combinator::{map, not, recognize},
    multi::many1_count,
    sequence::{delimited, preceded},
};

use super::error::{Fail, list, suggest};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A run of characters without spaces, `#`, quotes, braces or `->`.
    Word,
    /// A quoted string; the text is what is between the quotes.
    Str,
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// `->`.
    Arrow,
}

/// One token of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok<'a> {
    /// What it is.
    pub kind: Kind,
    /// Its text (for strings, without the quotes).
    pub text: &'a str,
    /// Column of its first character, from 1.
    pub col: u32,
}

impl<'a> Tok<'a> {
    /// The token as a message names it.
    pub fn shown(&self) -> String {
        match self.kind {
            Kind::Str => format!("the string \"{}\"", self.text),
            _ => format!("\"{}\"", self.text),
        }
    }

    /// The word, when this is a word.
    pub fn word(&self) -> Option<&'a str> {
        (self.kind == Kind::Word).then_some(self.text)
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '#' | '"' | '{' | '}')
}

/// One token: a string, a brace, an arrow or a word (a word stops before `->`).
fn token(i: &str) -> IResult<&str, (Kind, &str)> {
    alt((
        map(
            delimited(char('"'), take_till(|c| c == '"'), char('"')),
            |s| (Kind::Str, s),
        ),
        map(recognize(one_of("{")), |s| (Kind::Open, s)),
        map(recognize(one_of("}")), |s| (Kind::Close, s)),
        map(tag("->"), |s| (Kind::Arrow, s)),
        map(
            recognize(many1_count(preceded(not(tag("->")), satisfy(is_word_char)))),
            |s| (Kind::Word, s),
        ),
    ))
    .parse(i)
}

/// Column (from 1, in characters) of the position where `rest` starts inside `line`.
fn col_of(line: &str, rest: &str) -> u32 {
    let off = line.len() - rest.len();
    u32::try_from(line[..off].chars().count() + 1).unwrap_or(u32::MAX)
}

/// The tokens of a line, up to its comment, and the column just after the last token.
pub(crate) fn lex(line: &str) -> Result<(Vec<Tok<'_>>, u32), Fail> {
    let mut toks = Vec::new();
    let mut eol = 1;
    let mut rest = line;
    loop {
        let skipped: IResult<&str, &str> = take_while(char::is_whitespace).parse(rest);
        if let Ok((r, _)) = skipped {
            rest = r;
        }
        if rest.is_empty() || rest.starts_with('#') {
            return Ok((toks, eol));
        }
        let col = col_of(line, rest);
        match token(rest) {
            Ok((r, (kind, text))) => {
                toks.push(Tok { kind, text, col });
                rest = r;
                eol = col_of(line, rest);
            }
            Err(_) => {
                return Err(Fail::new(
                    col,
                    "unclosed string: end it with '\"' on the same line",
                ));
            }
        }
    }
}

/// `a` or `an`.
fn article(noun: &str) -> &'static str {
    match noun.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// A cursor over the tokens of one statement.
pub(crate) struct Cursor<'t, 'a> {
    toks: &'t [Tok<'a>],
    pos: usize,
    eol: u32,
}

impl<'t, 'a> Cursor<'t, 'a> {
    /// A cursor at the first token.
    pub fn new(toks: &'t [Tok<'a>], eol: u32) -> Self {
        Cursor { toks, pos: 0, eol }
    }

    /// The next token, without taking it.
    pub fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).copied()
    }

    /// Take the next token.
    pub fn next_tok(&mut self) -> Option<Tok<'a>> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// Column of the next token, or of the end of the line.
    pub fn here(&self) -> u32 {
        self.peek().map_or(self.eol, |t| t.col)
    }

    /// How a message names the next token.
    pub fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end of the line".to_owned(), |t| t.shown())
    }

    /// `expected {what}, found …` at the next token.
    pub fn expected(&self, what: &str) -> Fail {
        Fail::new(
            self.here(),
            format!("expected {what}, found {}", self.found()),
        )
    }

    /// Take a word that `parse` accepts. `parse` returns `Err(None)` for "not this kind of
    /// value" (the message is then `expected {what}, found …`) or `Err(Some(message))` for a value
    /// of the right kind that is out of range; either error is at the word.
    pub fn value<T>(
        &mut self,
        what: &str,
        parse: impl FnOnce(&'a str) -> Result<T, Option<String>>,
    ) -> Result<(T, Tok<'a>), Fail> {
        let Some(tok) = self.peek() else {
            return Err(self.expected(what));
        };
        let Some(word) = tok.word() else {
            return Err(self.expected(what));
        };
        match parse(word) {
            Ok(v) => {
                self.pos += 1;
                Ok((v, tok))
            }
            Err(None) => Err(self.expected(what)),
            Err(Some(msg)) => Err(Fail::new(tok.col, msg)),
        }
    }

    /// Take the word `kw`, or fail with `expected "kw" {after}, found …`.
    pub fn keyword(&mut self, kw: &str, after: &str) -> Result<Tok<'a>, Fail> {
        match self.peek() {
            Some(t) if t.word() == Some(kw) => {
                self.pos += 1;
                Ok(t)
            }
            _ => Err(self.expected(&format!("\"{kw}\" {after}"))),
        }
    }

    /// Take one of `options`, naming the kind of word `noun` in the messages:
    /// `unknown fault "crcc" (did you mean "crc"?)`.
    pub fn choice(
        &mut self,
        noun: &str,
        options: &[&'static str],
    ) -> Result<(&'static str, Tok<'a>), Fail> {
        let Some(tok) = self.peek() else {
            return Err(self.expected(&format!(
                "{} {noun} (one of: {})",
                article(noun),
                list(options)
            )));
        };
        if let Some(w) = tok.word() {
            if let Some(o) = options.iter().find(|o| **o == w) {
                self.pos += 1;
                return Ok((o, tok));
            }
        }
        Err(unknown(tok, noun, "", options))
    }

    /// Fail unless the statement is over.
    pub fn end(&self, after: &str) -> Result<(), Fail> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.expected(&format!("the end of the line after {after}"))),
        }
    }
}

/// `unknown {noun} "x"{ctx} (did you mean "y"?)`, or with the list of what is allowed.
pub(crate) fn unknown(tok: Tok<'_>, noun: &str, ctx: &str, options: &[&str]) -> Fail {
    match tok.kind {
        Kind::Close => {
            return Fail::new(
                tok.col,
                "\"}\" must be alone on its line, after the last line of the repeat block",
            );
        }
        Kind::Open => {
            return Fail::new(tok.col, "\"{\" may only end a \"repeat N {\" line");
        }
        _ => {}
    }
    let hint = match suggest(tok.text, options.iter().copied()) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => format!("expected one of: {}", list(options)),
    };
    let what = match tok.kind {
        Kind::Str => format!("{noun}: the string \"{}\"", tok.text),
        _ => format!("{noun} \"{}\"", tok.text),
    };
    Fail::new(tok.col, format!("unknown {what}{ctx} ({hint})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str) -> Vec<(Kind, &str, u32)> {
        lex(line)
            .unwrap()
            .0
            .into_iter()
            .map(|t| (t.kind, t.text, t.col))
            .collect()
    }

    #[test]
    fn tokens_and_columns() {
        assert_eq!(
            kinds("conn c1 h1:1->h2:2 iwarp private \"a b#\" # note"),
            vec![
                (Kind::Word, "conn", 1),
                (Kind::Word, "c1", 6),
                (Kind::Word, "h1:1", 9),
                (Kind::Arrow, "->", 13),
                (Kind::Word, "h2:2", 15),
                (Kind::Word, "iwarp", 20),
                (Kind::Word, "private", 26),
                (Kind::Str, "a b#", 34),
            ]
        );
        assert_eq!(
            kinds("\trepeat 4{"),
            vec![
                (Kind::Word, "repeat", 2),
                (Kind::Word, "4", 9),
                (Kind::Open, "{", 10)
            ]
        );
        assert_eq!(lex("write 4K   ").unwrap().1, 9);
        assert_eq!(lex("   # only").unwrap(), (vec![], 1));
        assert_eq!(kinds("é x")[1], (Kind::Word, "x", 3));
    }

    #[test]
    fn unclosed_string() {
        assert_eq!(
            lex("private \"abc").unwrap_err(),
            Fail::new(9, "unclosed string: end it with '\"' on the same line")
        );
    }
}
