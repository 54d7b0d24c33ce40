//! Commands: storage commands, raw iWARP messages and pauses, their options and their faults.

use super::error::Fail;
use super::lexer::{Cursor, Tok, unknown};
use super::statements::{Seen, State, int};
use super::tokens::{duration, hex64, int_in, is_name, size};
use crate::model::{Action, AtomicOp, ConnKind, Fault, Flow, Line, Side, Step};

/// The words that start a command.
pub(crate) const COMMANDS: &[&str] = &[
    "write",
    "read",
    "send",
    "rdma-write",
    "rdma-read",
    "terminate",
    "immediate",
    "atomic",
    "pause",
];

/// Commands that are iWARP messages, so only on iwarp conns.
const RAW: &[&str] = &[
    "send",
    "rdma-write",
    "rdma-read",
    "terminate",
    "immediate",
    "atomic",
];

const FAULTS: &[&str] = &[
    "crc",
    "loss",
    "reorder",
    "duplicate",
    "split",
    "close-wrong-stag",
    "close-wrong-itt",
    "close-unadvertised",
    "never-close",
    "both-bits",
    "bit-on-write",
    "bad-mpa-key",
    "ulpdu-length",
    "snaplen",
];

/// Faults that touch MPA, DDP or RDMAP, so have nothing to act on over plain iSCSI/TCP.
const IWARP_FAULTS: &[&str] = &[
    "crc",
    "split",
    "close-wrong-stag",
    "close-wrong-itt",
    "close-unadvertised",
    "never-close",
    "both-bits",
    "bit-on-write",
    "bad-mpa-key",
    "ulpdu-length",
];

const FLOWS: &[&str] = &["oneshot", "conventional", "iscsi-tcp"];

/// `FAULT`: the fault, its name and its column.
pub(crate) fn fault(cur: &mut Cursor<'_, '_>) -> Result<(Fault, &'static str, u32), Fail> {
    let (name, tok) = cur.choice("fault", FAULTS)?;
    let f = match name {
        "crc" => Fault::Crc,
        "loss" => Fault::Loss,
        "reorder" => Fault::Reorder,
        "duplicate" => Fault::Duplicate,
        "split" => {
            let digit = cur
                .peek()
                .and_then(|t| t.word())
                .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()));
            if digit {
                let what = "an octet of the FPDU from 1 to 65535";
                let v = int(cur, what, "a split offset", 1, 65535)?.0;
                Fault::Split(Some(u32::try_from(v).unwrap_or(1)))
            } else {
                Fault::Split(None)
            }
        }
        "close-wrong-stag" => Fault::CloseWrongStag,
        "close-wrong-itt" => Fault::CloseWrongItt,
        "close-unadvertised" => Fault::CloseUnadvertised,
        "never-close" => Fault::NeverClose,
        "both-bits" => Fault::BothBits,
        "bit-on-write" => Fault::BitOnWrite,
        "bad-mpa-key" => Fault::BadMpaKey,
        "ulpdu-length" => Fault::UlpduLengthBeyond,
        _ => {
            let what = "a capture length from 1 to 65535";
            let v = int(cur, what, "a fault snaplen", 1, 65535)?.0;
            Fault::Snaplen(u32::try_from(v).unwrap_or(1))
        }
    };
    Ok((f, name, tok.col))
}

/// An STag: a 32-bit number.
fn stag(cur: &mut Cursor<'_, '_>) -> Result<u32, Fail> {
    let what = "an STag: a 32-bit number such as 0xdeadbeef";
    let v = int(cur, what, "an STag", 0, u64::from(u32::MAX))?.0;
    Ok(u32::try_from(v).unwrap_or(0))
}

/// A tagged offset and its column.
fn offset(cur: &mut Cursor<'_, '_>) -> Result<(u64, u32), Fail> {
    int(
        cur,
        "a tagged offset such as 0 or 0x1000",
        "a tagged offset",
        0,
        u64::MAX,
    )
}

/// The options every command may share.
#[derive(Default)]
struct Common {
    seen: Seen,
    on: Option<usize>,
    from: Side,
    faults: Vec<(Fault, &'static str, u32)>,
}

impl State {
    /// Read the options of command `kw`: `on`, `from` and `fault` here, the others by `extra`.
    fn options<'t, 'a>(
        &self,
        cur: &mut Cursor<'t, 'a>,
        kw: &str,
        allowed: &[&'static str],
        o: &mut Common,
        mut extra: impl FnMut(&'static str, &mut Cursor<'t, 'a>) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        while let Some(t) = cur.next_tok() {
            let Some(w) = t.word().and_then(|w| allowed.iter().find(|a| **a == w)) else {
                return Err(unknown(t, "option", &format!(" for \"{kw}\""), allowed));
            };
            if *w != "fault" {
                o.seen.first(w, t.col)?;
            }
            match *w {
                "on" => {
                    let what = "a conn name such as c1";
                    let (name, tok) =
                        cur.value(what, |w| if is_name(w) { Ok(w) } else { Err(None) })?;
                    o.on = Some(self.conn_ref(name, tok.col)?);
                }
                "from" => {
                    let (s, _) = cur.choice("side", &["initiator", "target"])?;
                    o.from = if s == "initiator" {
                        Side::Initiator
                    } else {
                        Side::Target
                    };
                }
                "fault" => o.faults.push(fault(cur)?),
                _ => extra(w, cur)?,
            }
        }
        Ok(())
    }

    /// A command line: its action, checked against its conn.
    pub(crate) fn command(
        &self,
        kw: &'static str,
        kw_tok: Tok<'_>,
        cur: &mut Cursor<'_, '_>,
        line: Line,
    ) -> Result<Step, Fail> {
        let mut o = Common::default();
        let mut flow: Option<(Flow, u32)> = None;
        let mut fixed_stag: Option<(u32, u32)> = None;
        let action = match kw {
            "write" | "read" => {
                let size = self.size(cur)?;
                let allowed = &["flow", "stag", "on", "fault"];
                self.options(cur, kw, allowed, &mut o, |w, cur| {
                    let col = cur.here();
                    if w == "stag" {
                        fixed_stag = Some((stag(cur)?, col));
                        return Ok(());
                    }
                    let f = match cur.choice("flow", FLOWS)?.0 {
                        "oneshot" => Flow::OneShot,
                        "conventional" => Flow::Conventional,
                        _ => Flow::IscsiTcp,
                    };
                    flow = Some((f, col));
                    Ok(())
                })?;
                // Filled in below, once the conn is known.
                let (flow, stag) = (Flow::OneShot, None);
                if kw == "write" {
                    Action::Write { size, flow, stag }
                } else {
                    Action::Read { size, flow, stag }
                }
            }
            "send" => {
                let size = self.size(cur)?;
                let (mut solicited, mut invalidate) = (false, None);
                let allowed = &["se", "inv", "from", "on", "fault"];
                self.options(cur, kw, allowed, &mut o, |w, cur| {
                    if w == "se" {
                        solicited = true;
                    } else {
                        invalidate = Some(stag(cur)?);
                    }
                    Ok(())
                })?;
                Action::Send {
                    size,
                    from: o.from,
                    solicited,
                    invalidate,
                }
            }
            "rdma-write" => {
                let size = self.size(cur)?;
                let (mut sink, mut to) = (None, 0);
                let allowed = &["stag", "to", "from", "on", "fault"];
                self.options(cur, kw, allowed, &mut o, |w, cur| {
                    if w == "stag" {
                        sink = Some(stag(cur)?);
                    } else {
                        to = offset(cur)?.0;
                    }
                    Ok(())
                })?;
                Action::RdmaWrite {
                    size,
                    from: o.from,
                    stag: sink,
                    to,
                }
            }
            "rdma-read" => {
                let size = self.size(cur)?;
                let (mut sink, mut source) = (None, None);
                let allowed = &["sink", "source", "from", "on", "fault"];
                self.options(cur, kw, allowed, &mut o, |w, cur| {
                    let s = Some(stag(cur)?);
                    if w == "sink" {
                        sink = s;
                    } else {
                        source = s;
                    }
                    Ok(())
                })?;
                Action::RdmaRead {
                    size,
                    from: o.from,
                    sink,
                    source,
                }
            }
            "terminate" => {
                let (mut layer, mut etype, mut code) = (0, 0, 0);
                self.options(cur, kw, &["layer", "from", "on"], &mut o, |_, cur| {
                    layer = int(cur, "a layer from 0 to 15", "a layer", 0, 15)?.0;
                    cur.keyword("etype", "after the layer")?;
                    etype = int(cur, "an etype from 0 to 15", "an etype", 0, 15)?.0;
                    cur.keyword("code", "after the etype")?;
                    code = int(cur, "an error code from 0 to 255", "an error code", 0, 255)?.0;
                    Ok(())
                })?;
                let b = |v: u64| u8::try_from(v).unwrap_or(0);
                Action::Terminate {
                    from: o.from,
                    layer: b(layer),
                    etype: b(etype),
                    code: b(code),
                }
            }
            "immediate" => {
                let numeric = cur
                    .peek()
                    .and_then(|t| t.word())
                    .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()));
                let data = if numeric {
                    let what =
                        "immediate data: 0x and 1 to 16 hex digits, such as 0x0123456789abcdef";
                    cur.value(what, hex64)?.0
                } else {
                    0
                };
                let mut solicited = false;
                self.options(cur, kw, &["se", "from", "on"], &mut o, |_, _| {
                    solicited = true;
                    Ok(())
                })?;
                Action::Immediate {
                    data,
                    solicited,
                    from: o.from,
                }
            }
            "atomic" => {
                let number = |cur: &mut Cursor<'_, '_>, what: &str| {
                    cur.value(what, |w| int_in(w, "a 64-bit operand", 0, u64::MAX))
                        .map(|(v, _)| v)
                };
                let op = match cur
                    .choice("atomic operation", &["fetch-add", "cmp-swap"])?
                    .0
                {
                    "fetch-add" => AtomicOp::FetchAdd {
                        add: number(cur, "an addend such as 1")?,
                    },
                    _ => AtomicOp::CmpSwap {
                        compare: number(cur, "the compare data such as 0")?,
                        swap: number(cur, "the swap data such as 1")?,
                    },
                };
                let (mut remote, mut to) = (None, 0);
                let allowed = &["stag", "to", "from", "on"];
                self.options(cur, kw, allowed, &mut o, |w, cur| {
                    if w == "stag" {
                        remote = Some(stag(cur)?);
                    } else {
                        let (v, col) = offset(cur)?;
                        if v % 8 != 0 {
                            return Err(Fail::new(
                                col,
                                format!(
                                    "an atomic's tagged offset must be a multiple of 8, found {v}"
                                ),
                            ));
                        }
                        to = v;
                    }
                    Ok(())
                })?;
                Action::Atomic {
                    op,
                    from: o.from,
                    stag: remote,
                    to,
                }
            }
            _ => {
                let what = "a duration such as 2us, 500ns, 1.5ms or 1s";
                let (d, _) = cur.value(what, duration)?;
                self.options(cur, kw, &["on"], &mut o, |_, _| Ok(()))?;
                Action::Pause(d)
            }
        };
        let conn = match o.on {
            Some(c) => c,
            None => self.sc.conns.len().checked_sub(1).ok_or_else(|| {
                Fail::new(
                    kw_tok.col,
                    format!(
                        "\"{kw}\" needs a conn, and none is declared yet; declare one first, \
                         such as \"conn c1 h1:49152 -> h2:3260 iwarp\""
                    ),
                )
            })?,
        };
        let c = &self.sc.conns[conn];
        let iwarp = matches!(c.kind, ConnKind::Iwarp(_));
        if RAW.contains(&kw) && !iwarp {
            return Err(Fail::new(
                kw_tok.col,
                format!("\"{kw}\" needs an iwarp conn, and \"{}\" is iscsi", c.name),
            ));
        }
        if !iwarp {
            if let Some((_, name, col)) = o.faults.iter().find(|f| IWARP_FAULTS.contains(&f.1)) {
                return Err(Fail::new(
                    *col,
                    format!(
                        "fault \"{name}\" needs an iwarp conn, and \"{}\" is iscsi",
                        c.name
                    ),
                ));
            }
        }
        let action = match action {
            Action::Write { size, .. } | Action::Read { size, .. } => {
                let flow = match flow {
                    None if iwarp => Flow::OneShot,
                    None => Flow::IscsiTcp,
                    Some((f, col)) => {
                        if (f == Flow::IscsiTcp) == iwarp {
                            let (name, need, is) = match f {
                                Flow::OneShot => ("oneshot", "an iwarp", "iscsi"),
                                Flow::Conventional => ("conventional", "an iwarp", "iscsi"),
                                Flow::IscsiTcp => ("iscsi-tcp", "an iscsi", "iwarp"),
                            };
                            return Err(Fail::new(
                                col,
                                format!(
                                    "flow \"{name}\" needs {need} conn, and \"{}\" is {is}",
                                    c.name
                                ),
                            ));
                        }
                        f
                    }
                };
                if let (Some((_, col)), Flow::IscsiTcp) = (fixed_stag, flow) {
                    return Err(Fail::new(
                        col,
                        "\"stag\" needs flow oneshot or conventional: iSCSI/TCP has no STags",
                    ));
                }
                let stag = fixed_stag.map(|(s, _)| s);
                if kw == "write" {
                    Action::Write { size, flow, stag }
                } else {
                    Action::Read { size, flow, stag }
                }
            }
            a => a,
        };
        Ok(Step::Command {
            line,
            conn,
            action,
            faults: o.faults.into_iter().map(|f| f.0).collect(),
        })
    }

    /// A command's `SIZE`.
    fn size(&self, cur: &mut Cursor<'_, '_>) -> Result<u32, Fail> {
        Ok(cur.value("a size such as 4096, 64K or 1MiB", size)?.0)
    }
}
