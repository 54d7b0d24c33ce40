//! MPA, DDP, RDMAP and one-shot fields, in tshark's `iwarp_mpa`, `iwarp_ddp`, `iwarp_rdma` trees
//! plus the project's `oneshot` tree.

use oneshot_codec::ddp::{self, Segment};
use oneshot_codec::mpa::{self, MpaFrame, marker};
use oneshot_codec::oneshot::{Encoding, Op, Placement};
use oneshot_codec::rdmap::{self, Header, Message, Opcode, Settings, terminate};
use oneshot_codec::{Ulp, mpa::fpdu};

use super::B;
use crate::mpa::{CrcStatus, PduKind};
use crate::registry::f;
use crate::text::{push_bin, push_dec, push_hex};
use crate::tree::{Detail, NO_NODE, Severity, SourceId, Tree, Value};

/// An MPA Request, Reply, or a start-up frame with an impossible PD_Length, at `base` of `src`.
/// Returns the frame's summary for the Info column.
pub fn mpa_frame(t: &mut Tree, src: SourceId, base: usize, bytes: &[u8], kind: PduKind) -> String {
    let Ok(fr) = MpaFrame::header_checked(bytes) else {
        return "MPA (truncated)".into();
    };
    let mut b = B::new(t, src, base);
    let top = b.open(f::IWARP_MPA, 0, bytes.len());
    let reply = kind == PduKind::Reply || fr.kind() == mpa::FrameKind::Reply;
    let (hdr, key, name) = if reply {
        (f::IWARP_MPA_REP, f::IWARP_MPA_KEY_REP, "Reply")
    } else {
        (f::IWARP_MPA_REQ, f::IWARP_MPA_KEY_REQ, "Request")
    };
    let h = b.open(hdr, 0, bytes.len());
    b.t.label(h, format_args!("{name} frame header"));
    b.bytes(key, 0, 16);
    let flags = u64::from(fr.flags());
    b.bits(f::IWARP_MPA_MARKER_FLAG, flags, 16, 1);
    b.bits(f::IWARP_MPA_CRC_FLAG, flags, 16, 1);
    b.bits(f::IWARP_MPA_REJ_FLAG, flags, 16, 1);
    b.bits(f::IWARP_MPA_RES, flags, 16, 1);
    b.t.push();
    b.bits(f::IWARP_MPA_ENHANCED_FLAG, flags, 16, 1);
    b.t.pop();
    b.u(f::IWARP_MPA_REV, u64::from(fr.rev()), 17, 1);
    let pd = usize::from(fr.pd_length());
    b.u(f::IWARP_MPA_PDLENGTH, pd as u64, 18, 2);
    let mut info = format!("MPA {name} Frame");
    if pd > mpa::frame::field::MAX_PRIVATE_DATA {
        let i = b.v(f::IWARP_MPA_BAD_LENGTH, Value::None, 18, 2);
        b.t.expert(
            f::IWARP_MPA_BAD_LENGTH,
            Severity::Error,
            Some(i),
            format_args!("[PD length field indicates more 512 bytes of Private Data]"),
        );
        b.close();
        b.close();
        return info + " [bad PD_Length]";
    }
    if pd > 0 {
        let avail = bytes.len().saturating_sub(20).min(pd);
        b.bytes(f::IWARP_MPA_PRIVATEDATA, 20, avail);
        if let Some(e) = fr.enhanced() {
            b.t.push();
            let w1 = u64::from(e.ird_word);
            let w2 = u64::from(e.ord_word);
            b.bits(f::IWARP_MPA_PEER_TO_PEER, w1, 20, 2);
            b.bits(f::IWARP_MPA_RTR_SEND, w1, 20, 2);
            b.bits(f::IWARP_MPA_IRD, w1, 20, 2);
            b.bits(f::IWARP_MPA_RTR_WRITE, w2, 22, 2);
            b.bits(f::IWARP_MPA_RTR_READ, w2, 22, 2);
            b.bits(f::IWARP_MPA_ORD, w2, 22, 2);
            b.t.pop();
            info += &format!(" IRD={} ORD={}", e.ird(), e.ord());
        }
    }
    b.close();
    b.close();
    if fr.kind() == mpa::FrameKind::BadKey {
        t.expert(
            f::IWARP_MPA,
            Severity::Error,
            Some(top),
            format_args!("Bad MPA key: not \"MPA ID Req Frame\" nor \"MPA ID Rep Frame\""),
        );
        info += " [bad key]";
    }
    // Rev 2 and its RFC 6581 bit are legitimate (tshark 4.0 flags them only on its first pass,
    // so its filters never see the finding); flag only what neither RFC allows.
    let res_mask = if fr.rev() == 2 {
        mpa::frame::field::RES_5044_MASK & !0x10
    } else {
        mpa::frame::field::RES_5044_MASK
    };
    if !reply && fr.flags() & res_mask != 0 {
        t.expert(
            f::IWARP_MPA_RES_NOT_SET0,
            Severity::Warning,
            Some(top),
            format_args!("Res field is NOT set to zero as required by RFC 5044"),
        );
    }
    if !reply && !matches!(fr.rev(), 1 | 2) {
        t.expert(
            f::IWARP_MPA_REV_NOT_SET1,
            Severity::Warning,
            Some(top),
            format_args!(
                "Rev field is {}: neither 1 (RFC 5044) nor 2 (RFC 6581)",
                fr.rev()
            ),
        );
    }
    if reply && fr.rejected() {
        t.expert(
            f::IWARP_MPA_REJECT_BIT_RESPONDER,
            Severity::Note,
            Some(top),
            format_args!("Reject bit set by Responder"),
        );
        info += " (rejected)";
    }
    info
}

/// What the analysis and the Info column need to know about one FPDU.
#[derive(Debug, Clone, Copy, Default)]
pub struct FpduSummary {
    /// The message decoded.
    pub ok: bool,
    /// Opcode under the profile.
    pub opcode: Option<Opcode>,
    /// Tagged segment.
    pub tagged: bool,
    /// Last segment.
    pub last: bool,
    /// STag (tagged) and TO.
    pub stag: u32,
    /// Tagged offset.
    pub to: u64,
    /// Queue, MSN, MO (untagged).
    pub qn: u32,
    /// MSN.
    pub msn: u32,
    /// MO.
    pub mo: u32,
    /// The one-shot qualifier (op, S) when well formed.
    pub qualifier: Option<(Op, u32)>,
    /// The one-shot field's STag even when malformed.
    pub oneshot_stag: Option<u32>,
    /// Read Request: sink STag, size, source STag.
    pub read: Option<(u32, u32, u32)>,
    /// Read Request: sink tagged offset (where the Read Responses start).
    pub read_sink_to: u64,
    /// ULP payload length.
    pub payload_len: usize,
    /// iSCSI: opcode, ITT, EDTL (SCSI Command), flags octet, status (SCSI Response).
    pub iscsi: Option<(u8, u32, u32, u8, u8)>,
    /// Terminate: layer, etype, code.
    pub terminate: Option<(u8, u8, u8)>,
    /// The STag an iSER header names (write STag when WSV, else read STag when RSV), with its
    /// base offset.
    pub iser_stags: Option<(u32, u64)>,
    /// CRC verdict.
    pub crc: Option<CrcStatus>,
    /// The payload went to the `data` protocol (no ULP decoded it).
    pub data: bool,
}

/// The context of one FPDU.
#[derive(Debug, Clone, Copy)]
pub struct FpduCtx<'a> {
    /// The FPDU's wire octets (markers included).
    pub wire: &'a [u8],
    /// Where they are in the tree's sources.
    pub wire_src: SourceId,
    /// Offset of `wire` in that source.
    pub wire_base: usize,
    /// Marker stream position of the FPDU's first octet, when the direction has markers.
    pub marker_pos: Option<u32>,
    /// The FPDU without markers (same as `wire` without markers).
    pub plain: &'a [u8],
    /// Where the plain octets are in the tree's sources, and at which offset.
    pub plain_src: SourceId,
    /// Offset of `plain` in its source.
    pub plain_base: usize,
    /// CRC verdict.
    pub crc: CrcStatus,
    /// Decoder settings.
    pub settings: Settings,
    /// Protocols switched off.
    pub disabled: super::Disabled,
}

/// One FPDU: MPA framing fields, then DDP/RDMAP, one-shot, iSER and iSCSI.
pub fn fpdu(t: &mut Tree, c: &FpduCtx<'_>) -> FpduSummary {
    if t.detail() == Detail::Off {
        return fpdu_findings(t, c);
    }
    let mut s = FpduSummary {
        crc: Some(c.crc),
        ..FpduSummary::default()
    };
    let Ok(fp) = fpdu::Fpdu::new_checked(c.plain) else {
        return s;
    };
    // MPA.
    let mut w = B::new(t, c.wire_src, c.wire_base);
    w.open(f::IWARP_MPA, 0, c.wire.len());
    if let Some(pos) = c.marker_pos {
        let checks: Vec<(usize, u16, u16, u32)> = marker_checks(c.wire, pos)
            .map(|(off, m, expected)| (off, m.reserved, m.fpduptr, expected))
            .collect();
        if !checks.is_empty() {
            w.open(f::IWARP_MPA_MARKERS, checks[0].0, 4);
            for (off, res, ptr, expected) in checks {
                w.u(f::IWARP_MPA_MARKER_RES, u64::from(res), off, 2);
                let i = w.u(f::IWARP_MPA_MARKER_FPDUPTR, u64::from(ptr), off + 2, 2);
                if bad_fpduptr(ptr, expected) {
                    w.t.push();
                    w.hidden(
                        f::IWARP_MPA_MARKER_FPDUPTR_EXPECTED,
                        Value::Uint(u64::from(expected)),
                        off + 2,
                        2,
                    );
                    w.t.pop();
                    bad_marker(w.t, Some(i), ptr, expected);
                }
            }
            w.close();
        }
    }
    let wo = |logical: usize| {
        c.marker_pos.map_or(logical, |p| {
            marker::wire_offset(p, logical) - marker::wire_offset(p, 0) + marker::wire_offset(p, 0)
        })
    };
    let h = w.open(f::IWARP_MPA_FPDU, wo(0), c.wire.len().saturating_sub(wo(0)));
    w.t.label(h, format_args!("FPDU"));
    let n = fp.ulpdu_len();
    w.u(f::IWARP_MPA_ULPDULENGTH, u64::from(n), wo(0), 2);
    let pad = fp.pad_len();
    if pad > 0 {
        let pr = fp.pad_range();
        // PAD is contiguous in the plain FPDU; show it from the plain source.
        let mut pb = w.t_plain(c);
        pb.bytes(f::IWARP_MPA_PAD, pr.start, pad);
    }
    let crc_wire = u32::from_be_bytes(crc_bytes(c, &fp));
    let crc_off = wo(fp.crc_range().start);
    match c.crc {
        CrcStatus::Unverified => {
            w.u(f::IWARP_MPA_CRC, u64::from(crc_wire), crc_off, 4);
        }
        st => {
            let i = w.u(f::IWARP_MPA_CRC_CHECK, u64::from(crc_wire), crc_off, 4);
            if st == CrcStatus::Bad {
                let good = crc_expected(c, &fp);
                w.t.label(
                    i,
                    format_args!("CRC check: 0x{crc_wire:08x} (Bad CRC32, should be 0x{good:08x})"),
                );
                bad_crc(w.t, Some(i), crc_wire, good);
            } else {
                w.t.label_with(i, |l| {
                    l.push_str("CRC check: 0x");
                    push_hex(l, u64::from(crc_wire), 8);
                    l.push_str(" (Good CRC32)");
                });
            }
        }
    }
    w.u(f::IWARP_MPA_CRC_STATUS, c.crc.code(), crc_off, 4);
    w.close();
    w.close();

    // DDP / RDMAP from the plain FPDU.
    let ulpdu = fp.ulpdu_ref();
    let ub = c.plain_base + mpa::fpdu::field::ULPDU;
    let decoded = Message::decode(ulpdu, c.settings);
    let m = match &decoded {
        Ok(m) => m,
        Err(e) => {
            let mut b = B::new(t, c.plain_src, ub);
            let i = b.open(f::IWARP_DDP_RDMAP, 0, ulpdu.len());
            b.close();
            malformed(t, Some(i), e);
            return s;
        }
    };
    summarize(m, &mut s, c.disabled);
    ddp_rdmap(t, c.plain_src, ub, ulpdu, m, &s, c.disabled);
    if !c.disabled.oneshot {
        oneshot_fields(t, c.plain_src, ub, m);
    }
    ulp(t, c.plain_src, ub, m, c.disabled);
    s
}

/// [`fpdu`] when the tree is [`Detail::Off`] (summary lines, `-q`): the summary and the expert
/// findings, in the order the full tree records them, without walking the builders.
fn fpdu_findings(t: &mut Tree, c: &FpduCtx<'_>) -> FpduSummary {
    let mut s = FpduSummary {
        crc: Some(c.crc),
        ..FpduSummary::default()
    };
    let Ok(fp) = fpdu::Fpdu::new_checked(c.plain) else {
        return s;
    };
    if let Some(pos) = c.marker_pos {
        for (_, m, expected) in marker_checks(c.wire, pos) {
            if bad_fpduptr(m.fpduptr, expected) {
                bad_marker(t, None, m.fpduptr, expected);
            }
        }
    }
    if c.crc == CrcStatus::Bad {
        let crc_wire = u32::from_be_bytes(crc_bytes(c, &fp));
        bad_crc(t, None, crc_wire, crc_expected(c, &fp));
    }
    // Looked at where decode left it: moving the message out of the `Result` cost ~25
    // instructions an FPDU.
    let decoded = Message::decode(fp.ulpdu_ref(), c.settings);
    let m = match &decoded {
        Ok(m) => m,
        Err(e) => {
            malformed(t, None, e);
            return s;
        }
    };
    summarize(m, &mut s, c.disabled);
    if let Header::Terminate(tm) = &m.header {
        terminate_expert(t, None, tm);
    }
    // Without nodes, the `oneshot` protocol leaves only its findings: none on a well-formed
    // message, the common case.
    if !c.disabled.oneshot && (m.oneshot.is_malformed() || m.oneshot.maybe_immediate) {
        let ub = c.plain_base + mpa::fpdu::field::ULPDU;
        oneshot_fields(t, c.plain_src, ub, m);
    }
    s
}

/// What the Info column and the analysis need of a decoded message.
fn summarize(m: &Message<'_>, s: &mut FpduSummary, off: super::Disabled) {
    s.ok = true;
    let c = m.ddp.control();
    s.tagged = c.tagged();
    s.last = c.last();
    match &m.ddp {
        Segment::Tagged(tg) => {
            s.stag = tg.stag();
            s.to = tg.to();
        }
        Segment::Untagged(u) => {
            s.qn = u.qn();
            s.msn = u.msn();
            s.mo = u.mo();
        }
    }
    s.opcode = Some(m.opcode);
    match &m.header {
        Header::ReadRequest(rr) => {
            s.read = Some((rr.sink_stag(), rr.rdmardsz(), rr.source_stag()));
            s.read_sink_to = rr.sink_to();
        }
        Header::Terminate(tm) => s.terminate = Some((tm.layer(), tm.etype(), tm.errcode())),
        _ => {}
    }
    s.payload_len = m.payload.len();
    let ulp = ulp_of(m, off);
    // The payload tshark hands to its data dissector.
    s.data = ulp.is_none()
        && s.payload_len > 0
        && (m.opcode.is_send()
            && (m.oneshot.field.is_none()
                || off.oneshot
                    && !matches!(m.opcode, Opcode::SendSeAdvertise | Opcode::SendSeClose))
            || matches!(m.opcode, Opcode::RdmaWrite | Opcode::RdmaReadResponse));
    if !off.oneshot {
        if let Some(fl) = m.oneshot.field {
            s.oneshot_stag = Some(fl.stag);
            s.qualifier = fl.op.map(|op| (op, fl.stag));
        }
    }
    match ulp {
        Some(Ulp::Iser { iser, bhs }) => {
            s.iser_stags = if iser.wsv() {
                Some((iser.write_stag(), iser.write_base_offset()))
            } else if iser.rsv() {
                Some((iser.read_stag(), iser.read_base_offset()))
            } else {
                None
            };
            s.iscsi = bhs.as_ref().map(super::ulp::iscsi_values);
        }
        Some(Ulp::Iscsi(bhs)) => s.iscsi = Some(super::ulp::iscsi_values(&bhs)),
        None => {}
    }
}

/// The markers in an FPDU's wire octets (`pos`: the marker stream position of its first octet):
/// each marker's offset, the marker, and the FPDUPTR it should carry (its distance back to the
/// FPDU's header).
fn marker_checks(
    wire: &[u8],
    pos: u32,
) -> impl Iterator<Item = (usize, marker::MarkerRepr, u32)> + '_ {
    let header = marker::wire_offset(pos, 0);
    marker::markers(wire, pos).map(move |(off, m)| (off, m, off.saturating_sub(header) as u32))
}

/// A marker whose FPDUPTR does not point back at the FPDU's header (MPA error 3).
fn bad_fpduptr(ptr: u16, expected: u32) -> bool {
    u32::from(ptr & 0xFFFC) != expected & 0xFFFC
}

fn bad_marker(t: &mut Tree, node: Option<u32>, ptr: u16, expected: u32) {
    t.expert(
        f::IWARP_MPA_EXPERT_BAD_MARKER,
        Severity::Error,
        node,
        format_args!("Marker FPDUPTR {ptr} should be {expected} (MPA error 3)"),
    );
}

fn bad_crc(t: &mut Tree, node: Option<u32>, crc_wire: u32, good: u32) {
    t.expert(
        f::IWARP_MPA_EXPERT_BAD_CRC,
        Severity::Error,
        node,
        format_args!("Bad MPA CRC: 0x{crc_wire:08x}, should be 0x{good:08x}"),
    );
}

fn malformed(t: &mut Tree, node: Option<u32>, e: &dyn std::fmt::Display) {
    t.expert(
        f::_WS_MALFORMED,
        Severity::Error,
        node,
        format_args!("Malformed DDP/RDMAP: {e}"),
    );
}

fn terminate_expert(t: &mut Tree, node: Option<u32>, tm: &terminate::Terminate<&[u8]>) {
    let name =
        terminate::errcode_name(tm.term_layer(), tm.etype(), tm.errcode()).unwrap_or("unspecified");
    t.expert(
        f::IWARP_RDMA_EXPERT_TERMINATE,
        Severity::Error,
        node,
        format_args!(
            "Terminate: layer {} etype {} code 0x{:02x} ({name})",
            tm.term_layer(),
            tm.etype(),
            tm.errcode()
        ),
    );
}

impl<'t> B<'t> {
    /// A builder over the plain (marker-free) FPDU source.
    fn t_plain(&mut self, c: &FpduCtx<'_>) -> B<'_> {
        B {
            t: self.t,
            src: c.plain_src,
            base: c.plain_base,
        }
    }
}

fn crc_bytes(c: &FpduCtx<'_>, fp: &fpdu::Fpdu<&[u8]>) -> [u8; 4] {
    match c.marker_pos {
        Some(p) => mpa::MarkedFpdu::new_checked(c.wire, p)
            .map(|m| m.crc_bytes())
            .unwrap_or_else(|_| fp.crc_bytes()),
        None => fp.crc_bytes(),
    }
}

/// The CRC the FPDU should carry, as Wireshark prints it (wire order read big-endian).
fn crc_expected(c: &FpduCtx<'_>, fp: &fpdu::Fpdu<&[u8]>) -> u32 {
    let v = match c.marker_pos {
        Some(p) => mpa::MarkedFpdu::new_checked(c.wire, p)
            .map(|m| m.compute_crc())
            .unwrap_or_else(|_| fp.compute_crc()),
        None => fp.compute_crc(),
    };
    u32::from_be_bytes(v.to_le_bytes())
}

/// The `iwarp_ddp_rdmap` protocol.
fn ddp_rdmap(
    t: &mut Tree,
    src: SourceId,
    base: usize,
    ulpdu: &[u8],
    m: &Message<'_>,
    s: &FpduSummary,
    off: super::Disabled,
) {
    let mut b = B::new(t, src, base);
    // As tshark 4.0 sizes them: the protocol and the DDP header item both cover every header
    // (DDP, RDMAP's Read Request or Terminate, …), the RDMAP item its control octet and, when
    // untagged, the 4 octets after it; the payload is the `data` protocol's.
    let headers = m.payload_offset().min(ulpdu.len());
    b.open(f::IWARP_DDP_RDMAP, 0, headers);
    if b.t.builds_within(f::IWARP_DDP_RDMAP) {
        ddp_rdmap_fields(&mut b, ulpdu, headers, m, off);
    } else if let Header::Terminate(tm) = &m.header {
        // No field of it is wanted (`-T fields`): the protocol node alone, and the finding.
        terminate_expert(b.t, Some(NO_NODE), tm);
    }
    b.close();
    if s.data {
        // The payload tshark hands to its data dissector.
        let po = m.payload_offset();
        let mut b = B::new(t, src, base);
        // tshark's -T fields prints the data protocol as its octets.
        let d = b.v(f::DATA, Value::Bytes, po, s.payload_len);
        b.t.push();
        b.t.label_with(d, |l| {
            l.push_str("Data (");
            push_dec(l, s.payload_len);
            l.push_str(" bytes)");
        });
        b.bytes(f::DATA_DATA, po, s.payload_len);
        b.u(f::DATA_LEN, s.payload_len as u64, po, 0);
        b.close();
    }
}

/// The fields of `iwarp_ddp_rdmap` under its protocol node: the DDP header, the RDMAP header,
/// and the header the opcode adds.
fn ddp_rdmap_fields(
    b: &mut B<'_>,
    ulpdu: &[u8],
    headers: usize,
    m: &Message<'_>,
    off: super::Disabled,
) {
    let c = m.ddp.control();
    let dd = b.open(f::IWARP_DDP, 0, headers);
    b.t.label(dd, format_args!("DDP header"));
    let cf = b.open(f::IWARP_DDP_CONTROL_FIELD, 0, 1);
    b.t.label(cf, format_args!("DDP control field"));
    let cv = u64::from(c.0);
    b.bits(f::IWARP_DDP_TAGGED_FLAG, cv, 0, 1);
    b.bits(f::IWARP_DDP_LAST_FLAG, cv, 0, 1);
    b.bits(f::IWARP_DDP_RSVD, cv, 0, 1);
    b.bits(f::IWARP_DDP_DV, cv, 0, 1);
    b.close();
    match &m.ddp {
        Segment::Tagged(tg) => {
            let tl = b.open(f::IWARP_DDP_TAGGED, 2, 12);
            b.t.label(tl, format_args!("Tagged buffer model"));
            b.u(f::IWARP_DDP_STAG, u64::from(tg.stag()), 2, 4);
            b.u(f::IWARP_DDP_TAGGED_OFFSET, tg.to(), 6, 8);
            b.close();
        }
        Segment::Untagged(u) => {
            b.bytes(f::IWARP_DDP_RSVDULP, 1, 5);
            let ul = b.open(f::IWARP_DDP_UNTAGGED, 6, 12);
            b.t.label(ul, format_args!("Untagged buffer model"));
            b.u(f::IWARP_DDP_QN, u64::from(u.qn()), 6, 4);
            b.u(f::IWARP_DDP_MSN, u64::from(u.msn()), 10, 4);
            b.u(f::IWARP_DDP_MO, u64::from(u.mo()), 14, 4);
            b.close();
        }
    }
    b.close();
    // RDMAP.
    let rl = b.open(f::IWARP_RDMA, 1, if c.tagged() { 1 } else { 5 });
    b.t.label(rl, format_args!("RDMAP header"));
    let rc = b.open(f::IWARP_RDMA_CONTROL_FIELD, 1, 1);
    b.t.label(rc, format_args!("RDMAP control field"));
    let rv = u64::from(m.control.0);
    b.bits(f::IWARP_RDMA_VERSION, rv, 1, 1);
    b.bits(f::IWARP_RDMA_RSV, rv, 1, 1);
    let op = b.bits(f::IWARP_RDMA_OPCODE, rv, 1, 1);
    let name = match m.opcode {
        Opcode::Unknown(_) => "Unknown",
        Opcode::SendSeAdvertise | Opcode::SendSeClose if off.oneshot => "Unknown",
        o => o.name(),
    };
    let raw_op = m.control.opcode_raw();
    // ".... {raw_op:04b} = OpCode: {name} (0x{raw_op:x})"
    b.t.label_with(op, |l| {
        l.push_str(".... ");
        push_bin(l, u64::from(raw_op), 4);
        l.push_str(" = OpCode: ");
        l.push_str(name);
        l.push_str(" (0x");
        push_hex(l, u64::from(raw_op), 0);
        l.push(')');
    });
    b.close();
    let untagged = !m.ddp.control().tagged();
    if untagged && matches!(raw_op, 0x1 | 0x3 | 0x5 | 0x7) {
        b.bytes(f::IWARP_RDMA_RESERVED, 2, 4);
    }
    if untagged && matches!(raw_op, 0x4 | 0x6) {
        if let Some(u) = m.ddp.as_untagged() {
            b.u(f::IWARP_RDMA_INVAL_STAG, u64::from(u.rsvdulp_word()), 2, 4);
        }
    }
    let ho = m.header_offset();
    match m.header {
        Header::ReadRequest(rr) => {
            let l = b.open(f::IWARP_RDMA_RR, ho, 28);
            b.t.label(l, format_args!("Read request"));
            b.u(f::IWARP_RDMA_SINKSTAG, u64::from(rr.sink_stag()), ho, 4);
            b.u(f::IWARP_RDMA_SINKTO, rr.sink_to(), ho + 4, 8);
            b.u(f::IWARP_RDMA_RDMARDSZ, u64::from(rr.rdmardsz()), ho + 12, 4);
            b.u(
                f::IWARP_RDMA_SRCSTAG,
                u64::from(rr.source_stag()),
                ho + 16,
                4,
            );
            b.u(f::IWARP_RDMA_SRCTO, rr.source_to(), ho + 20, 8);
            b.close();
        }
        Header::Terminate(tm) => {
            let l = b.open(f::IWARP_RDMA_TERMINATE, ho, tm.len());
            b.t.label(l, format_args!("Terminate"));
            let ctrl = u64::from(tm.control());
            let tc = b.open(f::IWARP_RDMA_TERM_CTRL, ho, 4);
            b.t.label(tc, format_args!("Terminate Control"));
            b.bits(f::IWARP_RDMA_TERM_LAYER, ctrl >> 24, ho, 1);
            let (layer, etype) = (tm.layer(), tm.etype());
            let etype_f = match layer {
                0 => f::IWARP_RDMA_TERM_ETYPE_RDMA,
                1 => f::IWARP_RDMA_TERM_ETYPE_DDP,
                2 => f::IWARP_RDMA_TERM_ETYPE_LLP,
                _ => f::IWARP_RDMA_TERM_ETYPE,
            };
            b.bits(etype_f, ctrl >> 24, ho, 1);
            let code_f = match (layer, etype) {
                (0, _) => f::IWARP_RDMA_TERM_ERRCODE_RDMA,
                (1, 1) => f::IWARP_RDMA_TERM_ERRCODE_DDP_TAGGED,
                (1, 2) => f::IWARP_RDMA_TERM_ERRCODE_DDP_UNTAGGED,
                (2, _) => f::IWARP_RDMA_TERM_ERRCODE_LLP,
                _ => f::IWARP_RDMA_TERM_ERRCODE,
            };
            b.bits(code_f, (ctrl >> 16) & 0xFF, ho + 1, 1);
            let hc = b.open(f::IWARP_RDMA_TERM_HDRCT, ho + 2, 1);
            b.t.label(hc, format_args!("Header control bits"));
            let hdr = (ctrl >> 8) & 0xFF;
            b.bits(f::IWARP_RDMA_TERM_HDRCT_M, hdr, ho + 2, 1);
            b.bits(f::IWARP_RDMA_HDRCT_D, hdr, ho + 2, 1);
            b.bits(f::IWARP_RDMA_HDRCT_R, hdr, ho + 2, 1);
            b.close();
            b.close();
            b.bits(f::IWARP_RDMA_TERM_RSVD, ctrl & 0xFFFF, ho + 2, 2);
            let mut at = ho + 4;
            if tm.d() {
                b.bytes(f::IWARP_RDMA_TERM_DDP_SEG_LEN, at, 2);
                at += 2;
                let dl = tm.wireshark_ddp_header_len();
                let have = ulpdu.len().saturating_sub(at).min(dl);
                b.bytes(f::IWARP_RDMA_TERM_DDP_H, at, have);
                at += dl;
            }
            if tm.r() {
                let have = ulpdu.len().saturating_sub(at).min(28);
                b.bytes(f::IWARP_RDMA_TERM_RDMA_H, at, have);
            }
            b.close();
            terminate_expert(b.t, Some(l), &tm);
        }
        Header::AtomicRequest(ar) => {
            let w0 = u64::from(ar.opcode_word());
            b.bits(f::IWARP_RDMA_ATOMIC_RESERVED, w0, ho, 4);
            b.bits(f::IWARP_RDMA_ATOMIC_OPCODE, w0, ho, 4);
            b.u(
                f::IWARP_RDMA_ATOMIC_REQUEST_IDENTIFIER,
                u64::from(ar.request_id()),
                ho + 4,
                4,
            );
            b.u(
                f::IWARP_RDMA_ATOMIC_REMOTE_STAG,
                u64::from(ar.remote_stag()),
                ho + 8,
                4,
            );
            b.u(
                f::IWARP_RDMA_ATOMIC_REMOTE_TAGGED_OFFSET,
                ar.remote_to(),
                ho + 12,
                8,
            );
            if ar.opcode() == rdmap::AtomicOpcode::CmpSwap {
                b.u(
                    f::IWARP_RDMA_ATOMIC_SWAP_DATA,
                    ar.add_swap_data(),
                    ho + 20,
                    8,
                );
                b.u(
                    f::IWARP_RDMA_ATOMIC_SWAP_MASK,
                    ar.add_swap_mask(),
                    ho + 28,
                    8,
                );
            } else {
                b.u(
                    f::IWARP_RDMA_ATOMIC_ADD_DATA,
                    ar.add_swap_data(),
                    ho + 20,
                    8,
                );
                b.u(
                    f::IWARP_RDMA_ATOMIC_ADD_MASK,
                    ar.add_swap_mask(),
                    ho + 28,
                    8,
                );
            }
            b.u(
                f::IWARP_RDMA_ATOMIC_COMPARE_DATA,
                ar.compare_data(),
                ho + 36,
                8,
            );
            b.u(
                f::IWARP_RDMA_ATOMIC_COMPARE_MASK,
                ar.compare_mask(),
                ho + 44,
                8,
            );
        }
        Header::AtomicResponse(a) => {
            b.u(
                f::IWARP_RDMA_ATOMIC_ORIGINAL_REQUEST_IDENTIFIER,
                u64::from(a.request_id()),
                ho,
                4,
            );
            b.u(
                f::IWARP_RDMA_ATOMIC_ORIGINAL_REMOTE_DATA_VALUE,
                a.original_data(),
                ho + 4,
                8,
            );
        }
        Header::Immediate(d) => {
            b.u(f::IWARP_RDMA_IMMEDIATE, u64::from_be_bytes(d), ho, 8);
        }
        Header::OneShotStag(_) | Header::None => {}
    }
    b.close();
}

/// The `oneshot` protocol and its findings.
fn oneshot_fields(t: &mut Tree, src: SourceId, base: usize, m: &Message<'_>) {
    let info = m.oneshot;
    if info.field.is_none() && !info.is_malformed() && !info.maybe_immediate {
        return;
    }
    let mut b = B::new(t, src, base);
    let top = b.open(f::ONESHOT, 0, m.payload_offset());
    if !b.t.builds_within(f::ONESHOT) {
        // No field of it is wanted (`-T fields`, summary lines, `-q`): the protocol node and
        // the findings, on the nodes the full subtree gives them (none for the unbuilt bits).
        if info.field.is_some_and(|fl| fl.op.is_none()) {
            both_bits(b.t, NO_NODE);
        }
        if info.stray_bits != 0 {
            stray_bits(b.t, NO_NODE, m);
        }
        oneshot_notes(b.t, top, m);
        b.close();
        return;
    }
    let raw = u64::from(m.ddp.control().0);
    if let Some(fl) = info.field {
        let stag_at = match fl.placement {
            Placement::RsvdUlp => (ddp::field::RSVDULP_WORD.start, 4),
            Placement::Appended => (m.header_offset(), 4),
        };
        let op_at = match fl.encoding {
            Encoding::Opcode => (1, 1),
            Encoding::DdpFlags => (0, 1),
        };
        match fl.op {
            Some(op) => {
                b.s(f::ONESHOT_OP, op.name(), op_at.0, op_at.1);
            }
            None => {
                let i = b.bits(f::ONESHOT_RAW_BITS, raw, 0, 1);
                both_bits(b.t, i);
            }
        }
        b.u(f::ONESHOT_STAG, u64::from(fl.stag), stag_at.0, stag_at.1);
        b.s(f::ONESHOT_ENCODING, fl.encoding.name(), op_at.0, op_at.1);
        b.s(
            f::ONESHOT_PLACEMENT,
            fl.placement.name(),
            stag_at.0,
            stag_at.1,
        );
    }
    if info.stray_bits != 0 {
        let i = b.bits(f::ONESHOT_RAW_BITS, raw, 0, 1);
        stray_bits(b.t, i, m);
    }
    oneshot_notes(b.t, top, m);
    b.close();
}

/// Both one-shot DDP bits set (`node`: the raw bits).
fn both_bits(t: &mut Tree, node: u32) {
    t.expert(
        f::ONESHOT_EXPERT_BOTH_BITS,
        Severity::Error,
        Some(node),
        format_args!("Both one-shot bits set (advertise and close): malformed (ONESHOT.md §2.2)"),
    );
}

/// One-shot DDP bits where they may not be (`node`: the raw bits).
fn stray_bits(t: &mut Tree, node: u32, m: &Message<'_>) {
    t.expert(
        f::ONESHOT_EXPERT_STRAY_BITS,
        Severity::Error,
        Some(node),
        format_args!(
            "One-shot bit(s) 0x{:02x} on {}: only Send and Send with SE may carry them",
            m.oneshot.stray_bits, m.opcode
        ),
    );
}

/// The findings about the whole `oneshot` protocol node `top`.
fn oneshot_notes(t: &mut Tree, top: u32, m: &Message<'_>) {
    if m.oneshot.tagged_opcode {
        t.expert(
            f::ONESHOT_EXPERT_TAGGED_OPCODE,
            Severity::Error,
            Some(top),
            format_args!(
                "One-shot opcode {} on a tagged segment: the one-shot Sends are untagged",
                m.opcode
            ),
        );
    }
    if m.oneshot.maybe_immediate {
        t.expert(
            f::ONESHOT_EXPERT_MAYBE_IMMEDIATE,
            Severity::Note,
            Some(top),
            format_args!("Could be RFC 7306 Immediate Data (try --profile rfc7306)"),
        );
    }
}

/// iSER and iSCSI in the payload of a Send.
/// The ULP in a message's payload, unless disabled.
fn ulp_of<'a>(m: &Message<'a>, off: super::Disabled) -> Option<Ulp<'a>> {
    match Ulp::detect(m)? {
        Ulp::Iser { .. } if off.iser => None,
        Ulp::Iser { iser, .. } if off.iscsi => Some(Ulp::Iser { iser, bhs: None }),
        Ulp::Iscsi(_) if off.iscsi => None,
        u => Some(u),
    }
}

fn ulp(t: &mut Tree, src: SourceId, base: usize, m: &Message<'_>, off: super::Disabled) {
    let Some(u) = ulp_of(m, off) else { return };
    let po = base + m.payload_offset();
    match u {
        Ulp::Iser { iser, bhs } => {
            super::iser(t, src, po, &iser);
            if let Some(bhs) = bhs {
                super::iscsi(t, src, po + 28, &bhs);
            }
        }
        Ulp::Iscsi(bhs) => {
            super::iscsi(t, src, po, &bhs);
        }
    }
}
