//! TCP fields as tshark 4.0 shows them: the header, options, conversation timestamps, the
//! `[SEQ/ACK analysis]` subtree with its expert items, and what TCP says about the upper
//! layer's PDUs (`tcp.pdu.size`, `tcp.segment_data`, the `tcp.segments` reassembly subtree).

use std::fmt::Write as _;

use oneshot_codec::etherparse::TcpSlice;

use super::B;
use crate::field::FieldId;
use crate::registry::f;
use crate::stream::Piece;
use crate::tcp_analysis::{Verdict, completeness_text, flag, options, sack_option_blocks, th};
use crate::text;
use crate::tree::{Detail, FRAME_SOURCE, NO_NODE, Severity, SourceId, Tree, Value};

/// What the conversation tracker knows about a segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpInfo<'a> {
    /// `tcp.stream`.
    pub stream: u64,
    /// Time since the conversation's first frame.
    pub time_relative_ns: i64,
    /// Time since the conversation's previous frame.
    pub time_delta_ns: i64,
    /// The sequence analysis of the segment.
    pub analysis: &'a Verdict,
    /// What the upper layer made of the payload, in payload order.
    pub payload: &'a [PayloadItem],
}

/// One thing TCP says about its payload after `TCP payload (N bytes)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadItem {
    /// The upper layer framed a PDU of this many octets (`tcp.pdu.size`).
    PduSize(u32),
    /// Payload octets `off..off + len` belong to a PDU that spans segments
    /// (`tcp.segment_data`); `retransmitted` when the whole segment is a retransmission.
    Data {
        /// Offset in the payload.
        off: usize,
        /// Octets.
        len: usize,
        /// "Retransmitted TCP segment data".
        retransmitted: bool,
    },
    /// The PDU these octets belong to is reassembled in that frame (`tcp.reassembled_in`).
    ReassembledIn(u64),
}

const FLAG_CHARS: [(u16, char); 12] = [
    (0x800, 'R'),
    (0x400, 'R'),
    (0x200, 'R'),
    (0x100, 'A'),
    (0x080, 'C'),
    (0x040, 'E'),
    (0x020, 'U'),
    (0x010, 'A'),
    (0x008, 'P'),
    (0x004, 'R'),
    (0x002, 'S'),
    (0x001, 'F'),
];

/// Flag names in the Info column and the `Flags:` line, lowest bit first.
const FLAG_NAMES: [&str; 9] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"];

/// `"PSH, ACK"`: the set flags (low 12 bits) by name, as tshark lists them.
struct FlagNames(u16);

impl FlagNames {
    /// The names of the set flags, in tshark's order.
    fn names(&self) -> impl Iterator<Item = &'static str> {
        let bits = self.0;
        let reserved = (bits & 0xE00 != 0).then_some("Reserved");
        FLAG_NAMES
            .iter()
            .enumerate()
            .filter(move |&(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| *n)
            .chain(reserved)
    }

    /// Appends the text (the Info column's `[…]` and the `Flags:` label, without core::fmt:
    /// every TCP segment has both).
    fn push(&self, out: &mut String) {
        // The two combinations almost every segment has, without the walk over the bits.
        match self.0 {
            th::ACK => return out.push_str("ACK"),
            x if x == th::PSH | th::ACK => return out.push_str("PSH, ACK"),
            _ => {}
        }
        let start = out.len();
        for n in self.names() {
            if out.len() > start {
                out.push_str(", ");
            }
            out.push_str(n);
        }
        if out.len() == start {
            out.push_str("<None>");
        }
    }
}

/// Appends `"·······AP···"`: a letter for each flag bit set, a dot for each clear one.
fn push_flag_letters(out: &mut String, fl: u16) {
    for &(m, c) in &FLAG_CHARS {
        out.push(if fl & m != 0 { c } else { '\u{b7}' });
    }
}

/// `", Maximum segment size, Window scale"`: the names of the options shown.
struct OptionNames<'a>(&'a [u8]);

impl std::fmt::Display for OptionNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for o in options(self.0) {
            if let Some((_, name)) = option_proto(o.kind, o.raw.len()) {
                write!(f, ", {name}")?;
            }
        }
        Ok(())
    }
}

/// The protocol node and name of each option shown in detail.
fn option_proto(kind: u8, len: usize) -> Option<(FieldId, &'static str)> {
    Some(match (kind, len) {
        (0, _) => (f::TCP_OPTIONS_EOL, "End of Option List (EOL)"),
        (1, _) => (f::TCP_OPTIONS_NOP, "No-Operation (NOP)"),
        (2, 4) => (f::TCP_OPTIONS_MSS, "Maximum segment size"),
        (3, 3) => (f::TCP_OPTIONS_WSCALE, "Window scale"),
        (4, 2) => (f::TCP_OPTIONS_SACK_PERM, "SACK permitted"),
        (8, 10) => (f::TCP_OPTIONS_TIMESTAMP, "Timestamps"),
        (5, _) => (f::TCP_OPTIONS_SACK, "SACK"),
        _ => return None,
    })
}

/// The flags of a TCP header (low 12 bits).
pub fn raw_flags(t: &TcpSlice<'_>) -> u16 {
    let raw = t.header_slice();
    u16::from_be_bytes([raw[12], raw[13]]) & 0x0FFF
}

/// The Info column summary tshark writes for a segment: ports, flags, numbers, and what its
/// options say (`MSS=1460 WS=128 SACK_PERM TSval=… TSecr=…`).
pub fn info(out: &mut String, tcp: &TcpSlice<'_>, v: &Verdict) {
    let fl = raw_flags(tcp);
    // "{src} → {dst} [{flags}] Seq={seq}[ Ack={ack}] Win={win}[ Urg={urg}] Len={len}"
    text::push_dec(out, tcp.source_port());
    out.push_str(" \u{2192} ");
    text::push_dec(out, tcp.destination_port());
    out.push_str(" [");
    FlagNames(fl).push(out);
    out.push_str("] Seq=");
    text::push_dec(out, v.rel_seq);
    if fl & th::ACK != 0 {
        out.push_str(" Ack=");
        text::push_dec(out, v.rel_ack);
    }
    out.push_str(" Win=");
    text::push_dec(out, scaled_window(tcp, v).0);
    if fl & th::URG != 0 {
        out.push_str(" Urg=");
        text::push_dec(out, tcp.urgent_pointer());
    }
    out.push_str(" Len=");
    text::push_dec(out, tcp.payload().len());
    for o in options(&tcp.header_slice()[20..]) {
        match (o.kind, o.raw.len()) {
            (2, 4) => {
                let _ = write!(out, " MSS={}", u16::from_be_bytes([o.raw[2], o.raw[3]]));
            }
            (3, 3) => {
                let _ = write!(out, " WS={}", 1u32 << o.raw[2].min(14));
            }
            (4, 2) => out.push_str(" SACK_PERM"),
            (5, _) => {
                for (l, r) in sack_edges(o.raw, v.peer_base) {
                    let _ = write!(out, " SLE={l} SRE={r}");
                }
            }
            (8, 10) => {
                let _ = write!(
                    out,
                    " TSval={} TSecr={}",
                    u32::from_be_bytes([o.raw[2], o.raw[3], o.raw[4], o.raw[5]]),
                    u32::from_be_bytes([o.raw[6], o.raw[7], o.raw[8], o.raw[9]])
                );
            }
            _ => {}
        }
    }
}

/// The window after scaling, and the scale factor tshark shows (-1 unknown, -2 no scaling).
fn scaled_window(tcp: &TcpSlice<'_>, v: &Verdict) -> (u64, i64) {
    let win = u64::from(tcp.window_size());
    if tcp.syn() {
        return (win, -1);
    }
    match v.win_scale {
        s if s >= 0 => (win << s, 1i64 << s),
        s => (win, i64::from(s)),
    }
}

/// Adds an expert item about node `at`.
fn expert(t: &mut Tree, field: FieldId, sev: Severity, at: u32, args: std::fmt::Arguments<'_>) {
    t.expert(field, sev, Some(at), args);
}

/// TCP at `off`; returns the offset of the payload in the frame.
#[inline(always)]
pub fn tcp(t: &mut Tree, tcp: &TcpSlice<'_>, off: usize, info: &TcpInfo<'_>) -> usize {
    let raw = tcp.header_slice();
    // Without nodes (summary lines, -q) only findings are added, and most segments have
    // none: no analysis flag (the analysis subtree adds findings only under its flags), a
    // header none of `header_findings`' conditions hold for, and no SACK option (the only
    // option with a finding, D-SACK). Decided here, where it is inlined, so that those
    // segments cost a few comparisons rather than a call. No octet 5 among the options means
    // no SACK option; a 5 elsewhere (in a timestamp, say) only sends the segment the long way.
    if t.detail() == Detail::Off
        && info.analysis.flags == 0
        && quiet_header(raw)
        && (raw.len() == 20 || raw.get(20..).is_some_and(|opts| !opts.contains(&5)))
    {
        return off + raw.len();
    }
    tcp_tree(t, tcp, off, info)
}

/// [`tcp`] of a segment with something to show.
#[inline(never)]
fn tcp_tree(t: &mut Tree, tcp: &TcpSlice<'_>, off: usize, info: &TcpInfo<'_>) -> usize {
    let raw = tcp.header_slice();
    let hl = raw.len();
    let len = tcp.payload().len();
    let v = info.analysis;
    let fl = raw_flags(tcp);
    if t.detail() == Detail::Off {
        // No nodes: only the findings (of the header, the options, the analysis), in the
        // order the full tree adds them.
        header_findings(t, tcp, v, &HeaderNodes::default());
        let mut b = B::new(t, FRAME_SOURCE, off);
        if hl > 20 {
            tcp_options(&mut b, &raw[20..], v);
        }
        if v.analysed {
            seq_ack_analysis(&mut b, v);
        }
        return off + hl;
    }
    let mut b = B::new(t, FRAME_SOURCE, off);
    let top = b.open(f::TCP, 0, hl);
    // "Transmission Control Protocol, Src Port: {src}, Dst Port: {dst}, Seq: {seq}[, Ack:
    // {ack}], Len: {len}"
    b.t.label_with(top, |s| {
        s.push_str("Transmission Control Protocol, Src Port: ");
        text::push_dec(s, tcp.source_port());
        s.push_str(", Dst Port: ");
        text::push_dec(s, tcp.destination_port());
        s.push_str(", Seq: ");
        text::push_dec(s, v.rel_seq);
        if tcp.ack() {
            s.push_str(", Ack: ");
            text::push_dec(s, v.rel_ack);
        }
        s.push_str(", Len: ");
        text::push_dec(s, len);
    });
    b.u(f::TCP_SRCPORT, u64::from(tcp.source_port()), 0, 2);
    b.u(f::TCP_DSTPORT, u64::from(tcp.destination_port()), 2, 2);
    b.hidden(f::TCP_PORT, Value::Uint(u64::from(tcp.source_port())), 0, 2);
    b.hidden(
        f::TCP_PORT,
        Value::Uint(u64::from(tcp.destination_port())),
        2,
        2,
    );
    b.u(f::TCP_STREAM, info.stream, 0, 0);
    let c = b.u(f::TCP_COMPLETENESS, u64::from(v.completeness), 0, 0);
    b.t.label_with(c, |s| {
        s.push_str("Conversation completeness: ");
        s.push_str(completeness_text(v.completeness));
        s.push_str(" (");
        text::push_dec(s, v.completeness);
        s.push(')');
    });
    b.u(f::TCP_LEN, len as u64, 0, 0);
    let n = b.u(f::TCP_SEQ, u64::from(v.rel_seq), 4, 4);
    b.t.label_with(n, |s| {
        s.push_str("Sequence Number: ");
        text::push_dec(s, v.rel_seq);
        s.push_str("    (relative sequence number)");
    });
    b.u(f::TCP_SEQ_RAW, u64::from(tcp.sequence_number()), 4, 4);
    let extra = u32::from(fl & (th::SYN | th::FIN) != 0);
    let nxt = v.rel_seq.wrapping_add(len as u32).wrapping_add(extra);
    let n = b.u(f::TCP_NXTSEQ, u64::from(nxt), 0, 0);
    b.t.label_with(n, |s| {
        s.push_str("Next Sequence Number: ");
        text::push_dec(s, nxt);
        s.push_str("    (relative sequence number)");
    });
    let ack_node = b.u(f::TCP_ACK, u64::from(v.rel_ack), 8, 4);
    if tcp.ack() {
        b.t.label_with(ack_node, |s| {
            s.push_str("Acknowledgment Number: ");
            text::push_dec(s, v.rel_ack);
            s.push_str("    (relative ack number)");
        });
    }
    b.u(f::TCP_ACK_RAW, u64::from(tcp.acknowledgment_number()), 8, 4);
    let n = b.u(f::TCP_HDR_LEN, hl as u64, 12, 1);
    // "{hl / 4:04b} .... = Header Length: {hl} bytes ({hl / 4})"
    b.t.label_with(n, |s| {
        text::push_bin(s, ((hl / 4) & 0xF) as u64, 4);
        s.push_str(" .... = Header Length: ");
        text::push_dec(s, hl);
        s.push_str(" bytes (");
        text::push_dec(s, hl / 4);
        s.push(')');
    });
    let flags = u64::from(u16::from_be_bytes([raw[12], raw[13]]));
    let n = b.bits(f::TCP_FLAGS, flags, 12, 2);
    b.t.label_with(n, |s| {
        s.push_str("Flags: 0x");
        text::push_hex(s, u64::from(fl), 3);
        s.push_str(" (");
        FlagNames(fl).push(s);
        s.push(')');
    });
    b.t.push();
    let mut flag_nodes = [0u32; 10];
    for (k, fl_field) in [
        f::TCP_FLAGS_RES,
        f::TCP_FLAGS_AE,
        f::TCP_FLAGS_CWR,
        f::TCP_FLAGS_ECE,
        f::TCP_FLAGS_URG,
        f::TCP_FLAGS_ACK,
        f::TCP_FLAGS_PUSH,
        f::TCP_FLAGS_RESET,
        f::TCP_FLAGS_SYN,
        f::TCP_FLAGS_FIN,
    ]
    .into_iter()
    .enumerate()
    {
        flag_nodes[k] = b.bits(fl_field, flags, 12, 2);
    }
    let sv =
        b.t.text_value_with(f::TCP_FLAGS_STR, |s| push_flag_letters(s, fl));
    let str_node = b.v(f::TCP_FLAGS_STR, sv, 12, 2);
    b.t.pop();
    let win = u64::from(tcp.window_size());
    b.u(f::TCP_WINDOW_SIZE_VALUE, win, 14, 2);
    let (scaled, factor) = scaled_window(tcp, v);
    b.u(f::TCP_WINDOW_SIZE, scaled, 14, 2);
    if !tcp.syn() {
        let n = b.v(f::TCP_WINDOW_SIZE_SCALEFACTOR, Value::Int(factor), 14, 2);
        match factor {
            -1 => {
                b.t.label(n, format_args!("Window size scaling factor: -1 (unknown)"))
            }
            -2 => b.t.label(
                n,
                format_args!("Window size scaling factor: -2 (no window scaling used)"),
            ),
            _ => {}
        }
    }
    let n = b.u(f::TCP_CHECKSUM, u64::from(tcp.checksum()), 16, 2);
    b.t.label_with(n, |s| {
        s.push_str("Checksum: 0x");
        text::push_hex(s, u64::from(tcp.checksum()), 4);
        s.push_str(" [unverified]");
    });
    let n = b.u(f::TCP_CHECKSUM_STATUS, 2, 0, 0);
    b.t.label(n, format_args!("Checksum Status: Unverified"));
    let urgent_node = b.u(
        f::TCP_URGENT_POINTER,
        u64::from(tcp.urgent_pointer()),
        18,
        2,
    );
    let nodes = HeaderNodes {
        ack: ack_node,
        syn: flag_nodes[8],
        fin: flag_nodes[9],
        rst: flag_nodes[7],
        flags_str: str_node,
        urgent: urgent_node,
    };
    if !quiet_header(raw) {
        header_findings(b.t, tcp, v, &nodes);
    }
    if hl > 20 {
        tcp_options(&mut b, &raw[20..], v);
    }
    b.v(
        f::TCP_TIME_RELATIVE,
        Value::RelTime(info.time_relative_ns),
        0,
        0,
    );
    b.v(f::TCP_TIME_DELTA, Value::RelTime(info.time_delta_ns), 0, 0);
    if v.analysed {
        seq_ack_analysis(&mut b, v);
    }
    // tshark shows a RST's data as a "Reset cause", not as payload.
    if len > 0 && fl & th::RST == 0 {
        let n = b.bytes(f::TCP_PAYLOAD, hl, len);
        b.t.label_with(n, |s| {
            s.push_str("TCP payload (");
            text::push_dec(s, len);
            s.push_str(" byte");
            s.push_str(plural(len));
            s.push(')');
        });
    }
    for item in info.payload {
        match *item {
            PayloadItem::PduSize(n) => {
                b.u(f::TCP_PDU_SIZE, u64::from(n), hl, 0);
            }
            PayloadItem::Data {
                off: o,
                len: n,
                retransmitted,
            } => {
                let i = b.bytes(f::TCP_SEGMENT_DATA, hl + o, n);
                b.t.label_with(i, |s| {
                    if retransmitted {
                        s.push_str("Retransmitted ");
                    }
                    s.push_str("TCP segment data (");
                    text::push_dec(s, n);
                    s.push_str(" byte");
                    s.push_str(plural(n));
                    s.push(')');
                });
            }
            PayloadItem::ReassembledIn(fr) => {
                b.u(f::TCP_REASSEMBLED_IN, fr, 0, 0);
            }
        }
    }
    b.close();
    off + hl
}

/// The header's leaf nodes that findings are about ([`NO_NODE`] when not built).
struct HeaderNodes {
    ack: u32,
    syn: u32,
    fin: u32,
    rst: u32,
    flags_str: u32,
    urgent: u32,
}

impl Default for HeaderNodes {
    fn default() -> Self {
        HeaderNodes {
            ack: NO_NODE,
            syn: NO_NODE,
            fin: NO_NODE,
            rst: NO_NODE,
            flags_str: NO_NODE,
            urgent: NO_NODE,
        }
    }
}

/// Whether `header_findings` finds nothing in this header (`raw`: at least 20 octets): no
/// SYN, FIN or RST; the acknowledgment number zero unless ACK is set; the urgent pointer zero
/// unless URG is set.
#[inline(always)]
fn quiet_header(raw: &[u8]) -> bool {
    let Some(h) = raw.first_chunk::<20>() else {
        return false;
    };
    let fl = u16::from_be_bytes([h[12], h[13]]);
    let ack_raw = u32::from_be_bytes([h[8], h[9], h[10], h[11]]);
    let urgent = u16::from_be_bytes([h[18], h[19]]);
    fl & (th::SYN | th::FIN | th::RST) == 0
        && (fl & th::ACK != 0 || ack_raw == 0)
        && (fl & th::URG != 0 || urgent == 0)
}

/// The findings about the TCP header, in tshark's order. Each is about a leaf node, so where
/// it goes in the tree does not depend on when it is added.
fn header_findings(t: &mut Tree, tcp: &TcpSlice<'_>, v: &Verdict, n: &HeaderNodes) {
    let fl = raw_flags(tcp);
    if !tcp.ack() && tcp.acknowledgment_number() != 0 {
        expert(
            t,
            f::TCP_ACK_NONZERO,
            Severity::Note,
            n.ack,
            format_args!(
                "The acknowledgment number field is nonzero while the ACK flag is not set"
            ),
        );
    }
    if fl & th::SYN != 0 {
        if fl & th::ACK != 0 {
            expert(
                t,
                f::TCP_CONNECTION_SYNACK,
                Severity::Chat,
                n.syn,
                format_args!(
                    "Connection establish acknowledge (SYN+ACK): server port {}",
                    tcp.source_port()
                ),
            );
        } else {
            expert(
                t,
                f::TCP_CONNECTION_SYN,
                Severity::Chat,
                n.syn,
                format_args!(
                    "Connection establish request (SYN): server port {}",
                    tcp.destination_port()
                ),
            );
        }
    }
    if fl & th::FIN != 0 {
        expert(
            t,
            f::TCP_CONNECTION_FIN,
            Severity::Chat,
            n.fin,
            format_args!("Connection finish (FIN)"),
        );
        match v.fin_active {
            Some(true) => expert(
                t,
                f::TCP_CONNECTION_FIN_ACTIVE,
                Severity::Note,
                n.flags_str,
                format_args!("This frame initiates the connection closing"),
            ),
            Some(false) => expert(
                t,
                f::TCP_CONNECTION_FIN_PASSIVE,
                Severity::Note,
                n.flags_str,
                format_args!("This frame undergoes the connection closing"),
            ),
            None => {}
        }
    }
    if fl & th::RST != 0 {
        expert(
            t,
            f::TCP_CONNECTION_RST,
            Severity::Warning,
            n.rst,
            format_args!("Connection reset (RST)"),
        );
    }
    if fl & th::URG == 0 && tcp.urgent_pointer() != 0 {
        expert(
            t,
            f::TCP_URGENT_POINTER_NON_ZERO,
            Severity::Note,
            n.urgent,
            format_args!("The urgent pointer field is nonzero while the URG flag is not set"),
        );
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The edges of a SACK option's blocks, relative to `base`.
fn sack_edges(raw: &[u8], base: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
    sack_option_blocks(raw).map(move |(l, r)| (l.wrapping_sub(base), r.wrapping_sub(base)))
}

/// `"SACK 1-101 201-301"`: the blocks after the option's name.
struct SackBlocks<'a>(&'a [u8], u32);

impl std::fmt::Display for SackBlocks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TCP Option - SACK")?;
        for (l, r) in sack_edges(self.0, self.1) {
            write!(f, " {l}-{r}")?;
        }
        Ok(())
    }
}

/// The blocks of a SACK option, as tshark shows them: each edge relative to the other
/// direction's base, their count, and a D-SACK (RFC 2883 §4: the first block lies below the
/// acknowledgment number, or inside the second block) flagged as such.
fn sack_option(b: &mut B<'_>, at: usize, r: &[u8], node: u32, v: &Verdict) {
    let (base, ack) = (v.peer_base, v.rel_ack);
    let mut n = 0u64;
    let mut first = [(0u32, 0u32); 2];
    for (k, (l, rt)) in sack_edges(r, base).enumerate() {
        let i = b.u(f::TCP_OPTIONS_SACK_LE, u64::from(l), at + 2 + 8 * k, 4);
        b.t.label(i, format_args!("left edge = {l} (relative)"));
        let i = b.u(f::TCP_OPTIONS_SACK_RE, u64::from(rt), at + 6 + 8 * k, 4);
        b.t.label(i, format_args!("right edge = {rt} (relative)"));
        if k < 2 {
            first[k] = (l, rt);
        }
        n += 1;
    }
    b.u(f::TCP_OPTIONS_SACK_COUNT, n, 0, 0);
    let seq_le = |a: u32, b: u32| (a.wrapping_sub(b) as i32) <= 0;
    let seq_lt = |a: u32, b: u32| (a.wrapping_sub(b) as i32) < 0;
    let dsack = seq_le(first[0].1, ack)
        || (n > 1 && seq_lt(first[1].0, first[0].1) && seq_le(first[0].1, first[1].1));
    if dsack && n > 0 {
        let (l, rt) = first[0];
        let i = b.u(f::TCP_OPTIONS_SACK_DSACK_LE, u64::from(l), at + 2, 4);
        b.t.label(i, format_args!("D-SACK Left Edge = {l} (relative)"));
        let i = b.u(f::TCP_OPTIONS_SACK_DSACK_RE, u64::from(rt), at + 6, 4);
        b.t.label(i, format_args!("D-SACK Right Edge = {rt} (relative)"));
        // tshark hangs this one on a text item of its own inside the option.
        expert(
            b.t,
            f::TCP_OPTIONS_SACK_DSACK,
            Severity::Warning,
            node,
            format_args!("D-SACK Sequence"),
        );
    }
}

/// The options subtree: one protocol node per option with its kind, length and values.
fn tcp_options(b: &mut B<'_>, opts: &[u8], v: &Verdict) {
    let node = b.bytes(f::TCP_OPTIONS, 20, opts.len());
    b.t.label(
        node,
        format_args!("Options: ({} bytes){}", opts.len(), OptionNames(opts)),
    );
    b.t.push();
    for o in options(opts) {
        let at = 20 + o.at;
        let r = o.raw;
        let Some((proto, name)) = option_proto(o.kind, r.len()) else {
            continue;
        };
        let n = b.bytes(proto, at, r.len());
        match o.kind {
            2 => {
                let mss = u16::from_be_bytes([r[2], r[3]]);
                b.t.label(
                    n,
                    format_args!("TCP Option - Maximum segment size: {mss} bytes"),
                );
            }
            3 => {
                let shift = r[2];
                b.t.label(
                    n,
                    format_args!(
                        "TCP Option - Window scale: {shift} (multiply by {})",
                        1u32 << shift.min(14)
                    ),
                );
            }
            5 => b.t.label(n, format_args!("{}", SackBlocks(r, v.peer_base))),
            8 => {
                b.t.label(
                    n,
                    format_args!(
                        "TCP Option - Timestamps: TSval {}, TSecr {}",
                        u32::from_be_bytes([r[2], r[3], r[4], r[5]]),
                        u32::from_be_bytes([r[6], r[7], r[8], r[9]])
                    ),
                );
            }
            _ => b.t.label(n, format_args!("TCP Option - {name}")),
        }
        b.t.push();
        b.u(f::TCP_OPTION_KIND, u64::from(o.kind), at, 1);
        if o.kind > 1 {
            b.u(f::TCP_OPTION_LEN, u64::from(r[1]), at + 1, 1);
        }
        match o.kind {
            2 => {
                b.u(
                    f::TCP_OPTIONS_MSS_VAL,
                    u64::from(u16::from_be_bytes([r[2], r[3]])),
                    at + 2,
                    2,
                );
            }
            3 => {
                b.u(f::TCP_OPTIONS_WSCALE_SHIFT, u64::from(r[2]), at + 2, 1);
                b.u(
                    f::TCP_OPTIONS_WSCALE_MULTIPLIER,
                    1u64 << r[2].min(14),
                    at + 2,
                    1,
                );
            }
            8 => {
                b.u(
                    f::TCP_OPTIONS_TIMESTAMP_TSVAL,
                    u64::from(u32::from_be_bytes([r[2], r[3], r[4], r[5]])),
                    at + 2,
                    4,
                );
                b.u(
                    f::TCP_OPTIONS_TIMESTAMP_TSECR,
                    u64::from(u32::from_be_bytes([r[6], r[7], r[8], r[9]])),
                    at + 6,
                    4,
                );
            }
            5 => sack_option(b, at, r, n, v),
            _ => {}
        }
        b.t.pop();
    }
    b.t.pop();
}

/// The `[SEQ/ACK analysis]` subtree, in tshark's order, with its expert items where tshark
/// hangs them.
fn seq_ack_analysis(b: &mut B<'_>, v: &Verdict) {
    // Without a flag the subtree is these nodes alone: none of them built (-T fields of other
    // fields), it adds nothing.
    if v.flags == 0
        && ![
            f::TCP_ANALYSIS,
            f::TCP_ANALYSIS_ACKS_FRAME,
            f::TCP_ANALYSIS_ACK_RTT,
            f::TCP_ANALYSIS_INITIAL_RTT,
            f::TCP_ANALYSIS_BYTES_IN_FLIGHT,
            f::TCP_ANALYSIS_PUSH_BYTES_SENT,
        ]
        .into_iter()
        .any(|field| b.t.builds(field))
    {
        return;
    }
    let top = b.v(f::TCP_ANALYSIS, Value::None, 0, 0);
    b.t.label(top, format_args!("SEQ/ACK analysis"));
    b.t.push();
    if v.acks_frame != 0 {
        b.u(f::TCP_ANALYSIS_ACKS_FRAME, v.acks_frame, 0, 0);
        if v.ack_rtt != 0 {
            b.v(f::TCP_ANALYSIS_ACK_RTT, Value::RelTime(v.ack_rtt), 0, 0);
        }
    }
    if v.initial_rtt != 0 {
        b.v(
            f::TCP_ANALYSIS_INITIAL_RTT,
            Value::RelTime(v.initial_rtt),
            0,
            0,
        );
    }
    if v.bytes_in_flight != 0 {
        b.u(
            f::TCP_ANALYSIS_BYTES_IN_FLIGHT,
            u64::from(v.bytes_in_flight),
            0,
            0,
        );
        b.u(
            f::TCP_ANALYSIS_PUSH_BYTES_SENT,
            u64::from(v.push_bytes_sent),
            0,
            0,
        );
    }
    let fl = v.flags;
    if fl != 0 {
        let flags = b.v(f::TCP_ANALYSIS_FLAGS, Value::None, 0, 0);
        b.t.label(flags, format_args!("TCP Analysis Flags"));
        b.t.push();
        let say = |b: &mut B<'_>, bit: u16, field: FieldId, sev: Severity, text: &str| {
            if fl & bit != 0 {
                expert(b.t, field, sev, flags, format_args!("{text}"));
            }
        };
        say(
            b,
            flag::REUSED_PORTS,
            f::TCP_ANALYSIS_REUSED_PORTS,
            Severity::Note,
            "A new tcp session is started with the same ports as an earlier session in this trace",
        );
        if fl & flag::RETRANSMISSION != 0 {
            expert(
                b.t,
                f::TCP_ANALYSIS_RETRANSMISSION,
                Severity::Note,
                flags,
                format_args!("This frame is a (suspected) retransmission"),
            );
            if v.rto != 0 {
                b.v(f::TCP_ANALYSIS_RTO, Value::RelTime(v.rto), 0, 0);
                b.u(f::TCP_ANALYSIS_RTO_FRAME, v.rto_frame, 0, 0);
            }
        }
        for (bit, field, text) in [
            (
                flag::FAST_RETRANSMISSION,
                f::TCP_ANALYSIS_FAST_RETRANSMISSION,
                "This frame is a (suspected) fast retransmission",
            ),
            (
                flag::SPURIOUS_RETRANSMISSION,
                f::TCP_ANALYSIS_SPURIOUS_RETRANSMISSION,
                "This frame is a (suspected) spurious retransmission",
            ),
        ] {
            if fl & bit != 0 {
                expert(b.t, field, Severity::Note, flags, format_args!("{text}"));
                expert(
                    b.t,
                    f::TCP_ANALYSIS_RETRANSMISSION,
                    Severity::Note,
                    flags,
                    format_args!("This frame is a (suspected) retransmission"),
                );
            }
        }
        say(
            b,
            flag::OUT_OF_ORDER,
            f::TCP_ANALYSIS_OUT_OF_ORDER,
            Severity::Warning,
            "This frame is a (suspected) out-of-order segment",
        );
        say(
            b,
            flag::LOST_PACKET,
            f::TCP_ANALYSIS_LOST_SEGMENT,
            Severity::Warning,
            "Previous segment(s) not captured (common at capture start)",
        );
        say(
            b,
            flag::ACK_LOST_PACKET,
            f::TCP_ANALYSIS_ACK_LOST_SEGMENT,
            Severity::Warning,
            "ACKed segment that wasn't captured (common at capture start)",
        );
        say(
            b,
            flag::WINDOW_UPDATE,
            f::TCP_ANALYSIS_WINDOW_UPDATE,
            Severity::Chat,
            "TCP window update",
        );
        say(
            b,
            flag::WINDOW_FULL,
            f::TCP_ANALYSIS_WINDOW_FULL,
            Severity::Warning,
            "TCP window specified by the receiver is now completely full",
        );
        say(
            b,
            flag::KEEP_ALIVE,
            f::TCP_ANALYSIS_KEEP_ALIVE,
            Severity::Note,
            "TCP keep-alive segment",
        );
        say(
            b,
            flag::KEEP_ALIVE_ACK,
            f::TCP_ANALYSIS_KEEP_ALIVE_ACK,
            Severity::Note,
            "ACK to a TCP keep-alive segment",
        );
        let dup = v.dup_ack_num != 0;
        if dup && fl & flag::DUPLICATE_ACK != 0 {
            let n = b.v(f::TCP_ANALYSIS_DUPLICATE_ACK, Value::None, 0, 0);
            b.t.label(n, format_args!("This is a TCP duplicate ack"));
        }
        b.t.pop();
        if dup {
            b.u(
                f::TCP_ANALYSIS_DUPLICATE_ACK_NUM,
                u64::from(v.dup_ack_num),
                0,
                0,
            );
            let n = b.u(f::TCP_ANALYSIS_DUPLICATE_ACK_FRAME, v.dup_ack_frame, 0, 0);
            expert(
                b.t,
                f::TCP_ANALYSIS_DUPLICATE_ACK,
                Severity::Note,
                n,
                format_args!("Duplicate ACK (#{})", v.dup_ack_num),
            );
        }
        for (bit, field, sev, text) in [
            (
                flag::ZERO_WINDOW_PROBE,
                f::TCP_ANALYSIS_ZERO_WINDOW_PROBE,
                Severity::Note,
                "TCP Zero Window Probe",
            ),
            (
                flag::ZERO_WINDOW,
                f::TCP_ANALYSIS_ZERO_WINDOW,
                Severity::Warning,
                "TCP Zero Window segment",
            ),
            (
                flag::ZERO_WINDOW_PROBE_ACK,
                f::TCP_ANALYSIS_ZERO_WINDOW_PROBE_ACK,
                Severity::Note,
                "ACK to a TCP Zero Window Probe",
            ),
        ] {
            if fl & bit != 0 {
                expert(b.t, field, sev, flags, format_args!("{text}"));
            }
        }
    }
    b.t.pop();
}

/// The reassembly subtree tshark puts right after the TCP tree in the frame that completes a
/// PDU spanning segments: the segments (frame and payload range each), their count, the
/// reassembled length and octets (`data`, in source `src`).
pub fn tcp_segments(t: &mut Tree, pieces: &[Piece], pdu_seq: u32, src: SourceId, data: &[u8]) {
    let total = data.len();
    let mut b = B::new(t, src, 0);
    let top = b.v(f::TCP_SEGMENTS, Value::None, 0, total);
    let mut label = String::with_capacity(64);
    let _ = write!(
        label,
        "{} Reassembled TCP Segments ({total} bytes): ",
        pieces.len()
    );
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            label.push_str(", ");
        }
        let _ = write!(label, "#{}({})", p.frame, p.len);
    }
    // tshark's labels stop at 239 octets.
    if label.len() > 239 {
        let mut end = 239;
        while !label.is_char_boundary(end) {
            end -= 1;
        }
        label.truncate(end);
    }
    b.t.label(top, format_args!("{label}"));
    b.t.push();
    for p in pieces {
        let start = p.seq.wrapping_sub(pdu_seq) as usize;
        let n = b.u(f::TCP_SEGMENT, p.frame, start, p.len as usize);
        b.t.label(
            n,
            format_args!(
                "Frame: {}, payload: {}-{} ({} byte{})",
                p.frame,
                start,
                start + p.len as usize - 1,
                p.len,
                plural(p.len as usize)
            ),
        );
    }
    b.u(f::TCP_SEGMENT_COUNT, pieces.len() as u64, 0, 0);
    b.u(f::TCP_REASSEMBLED_LENGTH, total as u64, 0, 0);
    let n = b.bytes(f::TCP_REASSEMBLED_DATA, 0, total);
    // tshark shows the first 36 octets of a byte field, then an ellipsis.
    let mut hex = String::with_capacity(76);
    for x in data.iter().take(36) {
        let _ = write!(hex, "{x:02x}");
    }
    if data.len() > 36 {
        hex.push('\u{2026}');
    }
    b.t.label(n, format_args!("Reassembled TCP Data: {hex}"));
    b.t.pop();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(bits: u16) -> String {
        let mut s = String::new();
        FlagNames(bits).push(&mut s);
        s
    }

    #[test]
    fn flag_names_list_set_flags_in_tsharks_order() {
        assert_eq!(names(th::ACK), "ACK");
        assert_eq!(names(th::PSH | th::ACK), "PSH, ACK");
        assert_eq!(names(th::SYN | th::ACK), "SYN, ACK");
        assert_eq!(names(th::FIN | th::PSH | th::ACK), "FIN, PSH, ACK");
        assert_eq!(names(th::RST), "RST");
        assert_eq!(names(0), "<None>");
        assert_eq!(names(0x200 | th::ACK), "ACK, Reserved");
    }
}
