//! The dissector: one captured packet in, its field tree and summary line out. It keeps the
//! state that spans packets: TCP conversations and their reassembly, MPA per direction, and the
//! analysis of STag lifecycles.

use foldhash::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use oneshot_codec::etherparse::{LaxIpSlice, TcpSlice};
use oneshot_codec::iscsi::{Bhs, IscsiOpcode};
use oneshot_codec::mpa::marker;
use oneshot_codec::oneshot::Op;
use oneshot_codec::rdmap::{Opcode, Settings};

use crate::analysis::Analysis;
use crate::build::{self, FpduCtx, FpduSummary, FrameInfo, PayloadItem, TcpInfo};
use crate::capture::{LinkType, Packet};
use crate::link::{self, LinkHeader};
use crate::mpa::{DirState, Forced, FrameOut, Location, MpaConv, Pdu, PduKind};
use crate::registry::f;
use crate::stream::{ConvKey, ConvTable, Direction, Piece};
use crate::tcp_analysis::{self, Reuse, Segment, flag};
use crate::text;
use crate::tree::{self, Detail, FRAME_SOURCE, Severity, Tree, Value};

/// `-d tcp.port==N,mpa[,crc=on|off][,markers=on|off]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeAs {
    /// The port.
    pub port: u16,
    /// How to frame.
    pub forced: Forced,
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Opcode profile and one-shot placement.
    pub settings: Settings,
    /// Ports forced to MPA.
    pub decode_as: Vec<DecodeAs>,
    /// Octets reassembly may hold back in all (out-of-order data).
    pub reassembly_cap: usize,
    /// TCP port decoded as iSCSI when a conversation is not MPA.
    pub iscsi_port: u16,
    /// Protocols switched off (`--disable-protocol`).
    pub disabled: build::Disabled,
    /// Build the summary line (source, destination, info); `-q` and `-T fields` without
    /// `_ws.col.*` columns do not need it.
    pub summary: bool,
    /// How much of the tree to build.
    pub detail: Detail,
    /// Build the nodes of these fields only (and the protocol nodes): `-T fields` without a
    /// display filter. See [`Tree::keep_only`].
    pub only_fields: Option<Vec<crate::field::FieldId>>,
    /// First of two passes (`-2`): learn what [`Hindsight`] holds.
    pub learn: bool,
    /// Second of two passes: what the first one learnt.
    pub hindsight: Option<std::sync::Arc<Hindsight>>,
}

/// A PDU reassembled from several segments: the frame that carried its first octets, the last
/// frame before the one that completed it, and the completing frame.
type Spread = (u64, u64, u64);

/// What a first pass over a capture learns for the second (`-2`), as tshark shows it only
/// then: each conversation's final completeness and initial RTT, and for each PDU reassembled
/// from several segments the frames that carried its start and the frame that completed it
/// (`tcp.reassembled_in`). One entry per conversation and per multi-segment PDU.
#[derive(Debug, Clone, Default)]
pub struct Hindsight {
    /// By `tcp.stream`: completeness and initial RTT at the end of the capture.
    ends: HashMap<u64, (u8, i64)>,
    /// By `tcp.stream` and direction: (first frame, last frame before the completing one,
    /// completing frame), in completion order.
    reassembled: HashMap<(u64, usize), Vec<Spread>>,
}

impl Hindsight {
    /// Puts the conversation's values at the end of the capture into `verdict`, as tshark's
    /// second pass shows them.
    #[cold]
    #[inline(never)]
    fn final_values(&self, stream: u64, verdict: &mut tcp_analysis::Verdict) {
        if let Some(&(c, irtt)) = self.ends.get(&stream) {
            verdict.completeness = c;
            verdict.initial_rtt = irtt;
        }
    }

    /// The frame that completes the PDU whose octets frame `frame` carries, if a later one.
    fn reassembled_in(&self, stream: u64, dir: usize, frame: u64) -> Option<u64> {
        let v = self.reassembled.get(&(stream, dir))?;
        let i = v.partition_point(|&(_, last, _)| last < frame);
        v[i..]
            .iter()
            .take_while(|&&(first, _, _)| first <= frame)
            .find(|&&(first, last, done)| first <= frame && frame <= last && done != frame)
            .map(|&(_, _, done)| done)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            settings: Settings::default(),
            decode_as: Vec::new(),
            reassembly_cap: 64 << 20,
            iscsi_port: 3260,
            disabled: build::Disabled::default(),
            summary: true,
            detail: Detail::Labels,
            only_fields: None,
            learn: false,
            hindsight: None,
        }
    }
}

/// Which layer a frame's summary is about (for colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layer {
    /// Not TCP, or TCP without payload the dissector understands.
    #[default]
    Tcp,
    /// MPA start-up.
    Mpa,
    /// DDP/RDMAP.
    Rdma,
    /// One-shot advertise or close.
    OneShot,
    /// iSCSI.
    Iscsi,
}

/// The summary line of a frame.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Protocol column.
    pub protocol: &'static str,
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// The IP addresses `src` and `dst` are the text of (`None` when they are not IP
    /// addresses): printers may keep what they make of the text by these.
    pub addrs: Option<(IpAddr, IpAddr)>,
    /// Info column.
    pub info: String,
    /// The worst expert severity in the frame.
    pub worst: Option<Severity>,
    /// Layer for colouring.
    pub layer: Layer,
}

impl Summary {
    /// Empties the summary for the next frame, keeping its buffers.
    pub fn clear(&mut self) {
        self.protocol = "";
        self.src.clear();
        self.dst.clear();
        self.addrs = None;
        self.next_frame();
    }

    /// Empties all but the addresses (most frames have those of the frame before, or the
    /// same swapped).
    fn next_frame(&mut self) {
        self.protocol = "";
        self.info.clear();
        self.worst = None;
        self.layer = Layer::Tcp;
    }

    /// Sets the addresses to `s` and `d`, written by `cache`.
    fn set_ip(&mut self, s: IpAddr, d: IpAddr, cache: &mut text::AddrText) {
        match self.addrs {
            Some(k) if k == (s, d) => {}
            Some(k) if k == (d, s) => {
                std::mem::swap(&mut self.src, &mut self.dst);
                self.addrs = Some((s, d));
            }
            _ => {
                self.src.clear();
                self.dst.clear();
                cache.push(&mut self.src, s);
                cache.push(&mut self.dst, d);
                self.addrs = Some((s, d));
            }
        }
    }

    /// Sets non-IP addresses (or none): MACs when `eth` has them.
    fn set_other(&mut self, macs: Option<([u8; 6], [u8; 6])>) {
        self.addrs = None;
        self.src.clear();
        self.dst.clear();
        if let Some((s, d)) = macs {
            text::push_mac(&mut self.src, &s);
            text::push_mac(&mut self.dst, &d);
        }
    }
}

/// A TCP conversation.
#[derive(Debug)]
struct Conv {
    index: u64,
    dirs: [Direction; 2],
    /// Sequence analysis.
    tcpa: tcp_analysis::Conn,
    mpa: MpaConv,
    first_ts: i64,
    last_ts: i64,
}

/// The dissector.
pub struct Dissector {
    cfg: Config,
    /// Conversations by stream index (`None`: ended by a reuse of its ports).
    convs: Vec<Option<Conv>>,
    table: ConvTable,
    first_ts: Option<i64>,
    prev_ts: Option<i64>,
    prev_displayed: Option<i64>,
    /// The last frame's tree.
    pub tree: Tree,
    /// The last frame's summary.
    pub summary: Summary,
    /// A tree that is never built (FPDUs analysed without being shown).
    scratch: Tree,
    /// STag lifecycles and exchanges.
    pub analysis: Analysis,
    out: FrameOut,
    plain: Vec<u8>,
    addr_text: text::AddrText,
    /// The Info column's "SRC_PORT > DST_PORT " of the last port pairs.
    info_ports: text::Recent<(u16, u16)>,
    protocols: Stack,
    pending_total: usize,
    /// Scratch: the order experts are placed in, and one expert's nodes on the move.
    expert_order: Vec<usize>,
    expert_nodes: Vec<crate::tree::Node>,
    /// Scratch: what TCP says about the current segment's payload.
    payload_items: Vec<build::PayloadItem>,
    /// The tree builds a node of some payload item (else they are not listed).
    items_wanted: bool,
    /// Scratch: the segments of a PDU reassembled in the current frame.
    pieces: Vec<crate::stream::Piece>,
    /// The "Reassembled TCP" source made for the PDU at this offset of the framer's `held`.
    reassembled_src: Option<(usize, crate::tree::SourceId)>,
    /// What this pass learns for a second one (`-2`).
    learnt: Hindsight,
    /// Frames dissected.
    pub frames: u64,
    /// FPDUs seen, and how many had a bad CRC.
    pub fpdus: u64,
    /// FPDUs whose CRC did not match.
    pub bad_crcs: u64,
    /// Octets of FPDUs seen.
    pub fpdu_bytes: u64,
}

fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// Wireshark's encapsulation numbers (WTAP_ENCAP_*).
fn encap(link: LinkType) -> i64 {
    match link {
        LinkType::Ethernet => 1,
        LinkType::LinuxSll => 25,
        LinkType::LinuxSll2 => 210,
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => 7,
        LinkType::Null => 15,
        LinkType::Loop => 15,
        LinkType::Other(_) => 0,
    }
}

impl Dissector {
    /// A dissector with these settings.
    pub fn new(cfg: Config) -> Self {
        let detail = cfg.detail;
        let mut tree = Tree::default();
        tree.set_detail(detail);
        if let Some(fields) = &cfg.only_fields {
            tree.keep_only(fields);
        }
        let protocols_on = tree.builds(f::FRAME_PROTOCOLS);
        let items_wanted = [f::TCP_PDU_SIZE, f::TCP_SEGMENT_DATA, f::TCP_REASSEMBLED_IN]
            .into_iter()
            .any(|k| tree.builds(k));
        Dissector {
            cfg,
            convs: Vec::new(),
            table: ConvTable::default(),
            first_ts: None,
            prev_ts: None,
            prev_displayed: None,
            tree,
            summary: Summary::default(),
            scratch: {
                let mut t = Tree::default();
                t.set_detail(Detail::Off);
                t
            },
            analysis: Analysis::default(),
            out: FrameOut::default(),
            plain: Vec::new(),
            addr_text: text::AddrText::default(),
            info_ports: text::Recent::default(),
            protocols: Stack {
                // Only when the tree takes it (-z io,phs asks for it when -T fields keeps a few
                // fields).
                on: protocols_on,
                text: String::new(),
            },
            pending_total: 0,
            expert_order: Vec::new(),
            expert_nodes: Vec::new(),
            payload_items: Vec::new(),
            items_wanted,
            pieces: Vec::new(),
            reassembled_src: None,
            learnt: Hindsight::default(),
            frames: 0,
            fpdus: 0,
            bad_crcs: 0,
            fpdu_bytes: 0,
        }
    }

    /// The last frame's protocol stack, as `frame.protocols` shows it.
    pub fn protocols(&self) -> &str {
        &self.protocols.text
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Tells the dissector the last frame was displayed (for `frame.time_delta_displayed`).
    pub fn displayed(&mut self, ts_ns: i64) {
        self.prev_displayed = Some(ts_ns);
    }

    /// Dissects one packet into [`Dissector::tree`] and [`Dissector::summary`].
    pub fn dissect(&mut self, pkt: &Packet<'_>, pcapng: bool) {
        self.frames += 1;
        self.tree.clear();
        self.out.clear();
        self.protocols.text.clear();
        let first = *self.first_ts.get_or_insert(pkt.ts_ns);
        let delta = self.prev_ts.map_or(0, |p| pkt.ts_ns - p);
        self.prev_ts = Some(pkt.ts_ns);
        let delta_displayed = self.prev_displayed.map_or(0, |p| pkt.ts_ns - p);
        let tree_on = self.tree.detail() != Detail::Off;
        let protocols_node = if tree_on {
            let fi = FrameInfo {
                number: pkt.number,
                ts_ns: pkt.ts_ns,
                relative_ns: pkt.ts_ns - first,
                delta_ns: delta,
                delta_displayed_ns: delta_displayed,
                len: pkt.orig_len,
                cap_len: pkt.data.len() as u32,
                section: pcapng.then_some(pkt.iface.section_number),
                interface: pcapng.then_some(pkt.iface.id_in_section),
                interface_name: pkt.iface.name.as_deref(),
                interface_description: pkt.iface.description.as_deref(),
                encap: encap(pkt.link),
                comment: pkt.comment,
            };
            build::frame(&mut self.tree, &fi)
        } else {
            tree::NO_NODE
        };
        self.summary.next_frame();
        let data = pkt.data;
        let mut lf = link::LinkFrame::undecoded(data);
        lf.decode(pkt.link);
        match &lf.link_header {
            Some(h @ (LinkHeader::Sll { .. } | LinkHeader::Sll2 { .. })) => {
                build::link_header(&mut self.tree, h, lf.l2_len);
                self.protocols.push("sll:ethertype");
            }
            Some(h @ LinkHeader::Null { .. }) => {
                build::link_header(&mut self.tree, h, lf.l2_len);
                self.protocols.push("null");
            }
            None => {}
        }
        let fr = &lf.frame;
        if let Some(eth) = &fr.ethernet {
            if tree_on {
                // Ethernet padding: octets after the IP packet.
                let padding = fr.ip.as_ref().and_then(|ip| {
                    let end = offset_in(data, ip.payload().payload) + ip.payload().payload.len();
                    (end < data.len() && !ip.payload().incomplete).then(|| (end, data.len() - end))
                });
                build::ethernet(&mut self.tree, eth, padding);
            }
            self.protocols.push("eth:ethertype");
            self.summary.protocol = "Ethernet";
        }
        for v in fr.vlan_tags() {
            if tree_on {
                build::vlan(&mut self.tree, v, offset_in(data, v.slice()));
            }
            self.protocols.push(":vlan:ethertype");
        }
        let mut addrs: Option<(IpAddr, IpAddr)> = None;
        match &fr.ip {
            Some(LaxIpSlice::Ipv4(ip)) => {
                if tree_on {
                    build::ipv4(&mut self.tree, ip, offset_in(data, ip.header().slice()));
                }
                self.protocols.layer("ip");
                addrs = Some((
                    ip.header().source_addr().into(),
                    ip.header().destination_addr().into(),
                ));
                self.summary.protocol = "IPv4";
            }
            Some(LaxIpSlice::Ipv6(ip)) => {
                if tree_on {
                    build::ipv6(&mut self.tree, ip, offset_in(data, ip.header().slice()));
                }
                self.protocols.layer("ipv6");
                addrs = Some((
                    ip.header().source_addr().into(),
                    ip.header().destination_addr().into(),
                ));
                self.summary.protocol = "IPv6";
            }
            None => {}
        }
        if self.cfg.summary {
            match addrs {
                Some((s, d)) => self.summary.set_ip(s, d, &mut self.addr_text),
                // The addresses are the MACs unless IP follows.
                None => self
                    .summary
                    .set_other(fr.ethernet.as_ref().map(|e| (e.source(), e.destination()))),
            }
        }
        if let (Some(tcp), Some((sa, da))) = (&fr.tcp, &addrs) {
            self.tcp(pkt, tcp, sa, da, data);
        } else if let Some(e) = fr.stop {
            self.summary.info = format!("[Malformed: {e}]");
            let i = self.tree.add(
                f::_WS_MALFORMED,
                Value::None,
                FRAME_SOURCE,
                e.at.min(data.len()),
                0,
            );
            self.tree.expert(
                f::_WS_MALFORMED,
                Severity::Error,
                Some(i),
                format_args!("Malformed packet: {e}"),
            );
            if self.summary.protocol.is_empty() {
                self.summary.protocol = "Malformed";
            }
        }
        let protocols = if tree_on {
            self.tree
                .text_value(f::FRAME_PROTOCOLS, format_args!("{}", self.protocols.text))
        } else {
            Value::None
        };
        if let Some(n) = self.tree.nodes.get_mut(protocols_node as usize) {
            n.value = protocols;
        }
        self.experts_to_nodes();
    }

    /// TCP: conversation, sequence analysis, reassembly, MPA and everything above.
    // Not inlined into `dissect`: merged there it measured ~70 instructions a frame dearer.
    #[inline(never)]
    fn tcp(&mut self, pkt: &Packet<'_>, tcp: &TcpSlice<'_>, sa: &IpAddr, da: &IpAddr, data: &[u8]) {
        let (dir, index, new) = self
            .table
            .find((*sa, tcp.source_port()), (*da, tcp.destination_port()));
        let payload = tcp.payload();
        let (wscale, sack) = tcp_analysis::scan_options(&tcp.header_slice()[20..]);
        let seg = Segment {
            frame: pkt.number,
            ts: pkt.ts_ns,
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            len: payload.len() as u32,
            flags: build::tcp_flags(tcp),
            window: tcp.window_size(),
            wscale,
            sack,
        };
        // A SYN with a new initial sequence number on known ports starts a new conversation.
        let index = if new
            || self.convs[index]
                .as_ref()
                .is_some_and(|c| c.tcpa.reuse(dir, &seg) == Reuse::NewConversation)
        {
            let ports = (tcp.source_port(), tcp.destination_port());
            let (key, _) = ConvKey::of((*sa, ports.0), (*da, ports.1));
            self.start_conv(key, index, new, pkt.ts_ns, ports)
        } else {
            index
        };
        let cfg = &self.cfg;
        let Some(conv) = self.convs[index].as_mut() else {
            // The table names a live conversation for every key it returns.
            return;
        };
        let mut verdict = tcp_analysis::Verdict::default();
        conv.tcpa.segment_into(dir, &seg, &mut verdict);
        if let Some(h) = &cfg.hindsight {
            h.final_values(conv.index, &mut verdict);
        }
        let seq = seg.seq;
        if tcp.syn() {
            conv.dirs[dir].syn(seq);
        }
        let time_relative_ns = pkt.ts_ns - conv.first_ts;
        let time_delta_ns = pkt.ts_ns - conv.last_ts;
        conv.last_ts = pkt.ts_ns;
        // iSCSI over plain TCP on its port.
        if conv.mpa.phase == crate::mpa::Phase::Unknown
            && !cfg.disabled.iscsi
            && (tcp.source_port() == cfg.iscsi_port || tcp.destination_port() == cfg.iscsi_port)
            && !payload.is_empty()
            && !payload.starts_with(&oneshot_codec::mpa::KEY_REQUEST[..9])
            && oneshot_codec::iscsi::looks_like_bhs(payload)
        {
            conv.mpa.iscsi_tcp(payload);
        }
        // Reassembly, remembering which frame carried which octets while a framer reads them.
        let Conv { dirs, mpa, .. } = conv;
        dirs[dir].track = mpa.dirs[dir].state != DirState::Off;
        let out = &mut self.out;
        out.handshake = mpa.handshake_frames.0.is_some();
        let number = pkt.number;
        let payload_seq = seq.wrapping_add(u32::from(tcp.syn()));
        let unusual = flag::RETRANSMISSION | flag::SPURIOUS_RETRANSMISSION | flag::OUT_OF_ORDER;
        // `whole`: the segment was taken the common way and held whole FPDUs only.
        let (arrival, whole) = if verdict.flags & unusual == 0
            && !payload.is_empty()
            && dirs[dir].in_order(payload_seq)
            && mpa.framing_at(dir, payload_seq)
        {
            // The common case: the next octets in order, nothing waiting, FPDUs framed
            // straight from the frame; the ledger keeps only what a PDU still open needs.
            let a = dirs[dir].advance(payload_seq, payload.len());
            let whole = mpa.feed_fpdus(dir, payload_seq, payload, data, out);
            if !whole {
                let last_end = out
                    .pdus
                    .iter()
                    .rev()
                    .find(|p| p.dir == dir)
                    .map(|p| p.seq.wrapping_add(p.len as u32));
                dirs[dir].settle(payload_seq, payload.len(), number, last_end);
            }
            (a, whole)
        } else {
            let before = dirs[dir].pending_bytes();
            let budget = cfg
                .reassembly_cap
                .saturating_sub(self.pending_total.saturating_sub(before));
            let a = dirs[dir].data(payload_seq, payload, number, budget, &mut |s, b| {
                mpa.feed(dir, s, b, data, number, out)
            });
            if a.fresh == 0 && (a.out_of_order || a.duplicate) {
                mpa.segment_alone(dir, seq, payload, data, a.duplicate, out);
            }
            let after = dirs[dir].pending_bytes();
            self.pending_total =
                self.pending_total + after - before.min(self.pending_total + after);
            (a, false)
        };
        if tcp.fin() {
            dirs[dir].fin_seen = true;
        }
        let state = mpa.dirs[dir].state;
        if state == DirState::Off {
            dirs[dir].track = false;
            dirs[dir].forget_pieces();
        }
        // What TCP says about the payload: PDU sizes, segment data, a reassembly.
        self.payload_items.clear();
        self.pieces.clear();
        let view = if whole && !self.items_wanted {
            // Whole PDUs in order: none spans segments, and the ledger holds nothing.
            PayloadView::default()
        } else {
            payload_view(
                &mut dirs[dir],
                state,
                dir,
                payload_seq,
                payload.len(),
                &arrival,
                verdict.flags,
                &self.out.pdus,
                self.items_wanted,
                &mut self.payload_items,
                &mut self.pieces,
            )
        };
        let stream = conv.index;
        let framed = !matches!(state, DirState::Unknown | DirState::Off);
        if let (Some(k), true) = (view.reassembled, self.cfg.learn) {
            self.learn_reassembly(stream, k, number);
        }
        if let (Some(_), Some(t), true) = (&self.cfg.hindsight, view.open, self.items_wanted) {
            self.reassembled_later(stream, dir, number, t);
        }
        let info = TcpInfo {
            stream,
            time_relative_ns,
            time_delta_ns,
            analysis: &verdict,
            payload: &self.payload_items,
        };
        let tcp_off = offset_in(data, tcp.header_slice());
        build::tcp(&mut self.tree, tcp, tcp_off, &info);
        self.reassembled_src = None;
        if let Some(k) = view.reassembled {
            self.reassembled_source(k);
        }
        self.protocols.layer("tcp");
        self.summary.protocol = "TCP";
        if let Some(n) = arrival.skipped {
            gap_expert(&mut self.tree, n);
        }
        self.upper(pkt, stream, data, tcp, payload.len(), framed, dir);
        if self.cfg.summary {
            // The segment's own summary unless the layers above wrote theirs; tshark's remarks
            // go in front of either.
            if self.summary.info.is_empty() {
                build::tcp_info(&mut self.summary.info, tcp, &verdict);
                if view.suffix {
                    self.summary
                        .info
                        .push_str(" [TCP segment of a reassembled PDU]");
                }
            }
            if verdict.flags != 0 {
                let mut prefix = String::new();
                verdict.info_prefix(&mut prefix);
                self.summary.info.insert_str(0, &prefix);
            }
        }
    }

    /// The PDUs completed in this frame (`dir`: the segment's direction).
    #[allow(clippy::too_many_arguments)]
    fn upper(
        &mut self,
        pkt: &Packet<'_>,
        stream: u64,
        data: &[u8],
        tcp: &TcpSlice<'_>,
        payload_len: usize,
        framed: bool,
        dir: usize,
    ) {
        let settings = self.cfg.settings;
        let want_info = self.cfg.summary;
        // PDUs written to the Info column.
        let mut infos = 0;
        let mut layer = Layer::Tcp;
        let mut proto_mpa = false;
        let mut proto_iscsi = false;
        let pdus = std::mem::take(&mut self.out.pdus);
        let handshake = self.out.handshake;
        if !self.out.events.is_empty() {
            self.framer_events();
        }
        for p in &pdus {
            let wire: &[u8] = self.out.wire(data, p);
            let (wsrc, wbase) = match p.at {
                Location::Frame(o) => (FRAME_SOURCE, o),
                Location::Held(o) => match self.reassembled_src {
                    // TCP's reassembly subtree already made the source.
                    Some((ho, sid)) if ho == o => (sid, 0),
                    _ => {
                        let (sid, buf) = self.tree.new_source("Reassembled TCP");
                        buf.extend_from_slice(wire);
                        (sid, 0)
                    }
                },
            };
            match p.kind {
                PduKind::Request | PduKind::Reply | PduKind::BadFrame => {
                    if !proto_mpa {
                        self.protocols.push(":iwarp_mpa");
                    }
                    proto_mpa = true;
                    let s = build::mpa_frame(&mut self.tree, wsrc, wbase, wire, p.kind);
                    if want_info {
                        let ports = &mut self.info_ports;
                        next_info(&mut self.summary.info, ports, &mut infos, tcp).push_str(&s);
                    }
                    if layer == Layer::Tcp {
                        layer = Layer::Mpa;
                    }
                }
                PduKind::Iscsi => {
                    if !proto_iscsi {
                        self.protocols.layer("iscsi");
                    }
                    proto_iscsi = true;
                    if let Ok(bhs) = Bhs::new_checked(wire) {
                        let r = build::iscsi(&mut self.tree, wsrc, wbase, &bhs);
                        if want_info {
                            let ports = &mut self.info_ports;
                            let info = next_info(&mut self.summary.info, ports, &mut infos, tcp);
                            iscsi_info(info, &bhs, r);
                        }
                        layer = Layer::Iscsi;
                    }
                }
                PduKind::Fpdu => {
                    if p.analyse {
                        self.fpdus += 1;
                        self.fpdu_bytes += p.len as u64;
                        if p.crc == crate::mpa::CrcStatus::Bad {
                            self.bad_crcs += 1;
                        }
                    }
                    if !p.show {
                        // Shown in an earlier frame: its findings go on this one.
                        let at = crate::analysis::At {
                            stream,
                            dir: p.dir,
                            frame: pkt.number,
                            ts: pkt.ts_ns,
                            seq: p.seq,
                            len: p.len as u32,
                            pass: crate::analysis::Pass::Late,
                            first_node: self.tree.nodes.len(),
                            handshake,
                        };
                        let Dissector {
                            plain,
                            scratch,
                            analysis,
                            tree,
                            cfg,
                            ..
                        } = self;
                        let s = analyse_only(plain, scratch, p, wire, cfg.settings, cfg.disabled);
                        analysis.fpdu(tree, &at, &s);
                        continue;
                    }
                    // tshark's layers: MPA once per segment, then each FPDU's DDP/RDMAP and
                    // what it carries.
                    if !proto_mpa {
                        self.protocols.push(":iwarp_mpa");
                    }
                    proto_mpa = true;
                    // Strip markers into a source of their own.
                    let (plain, psrc, pbase): (&[u8], _, _) = match p.marker_pos {
                        Some(pos) if marker::stripped_len(pos, wire.len()) < wire.len() => {
                            let sid = strip_markers(&mut self.tree, &mut self.plain, wire, pos);
                            (&self.plain[..], sid, 0)
                        }
                        _ => (wire, wsrc, wbase),
                    };
                    let ctx = FpduCtx {
                        wire,
                        wire_src: wsrc,
                        wire_base: wbase,
                        marker_pos: p.marker_pos,
                        plain,
                        plain_src: psrc,
                        plain_base: pbase,
                        crc: p.crc,
                        settings,
                        disabled: self.cfg.disabled,
                    };
                    let first_node = self.tree.nodes.len();
                    let s = build::fpdu(&mut self.tree, &ctx);
                    let at = crate::analysis::At {
                        stream,
                        dir: p.dir,
                        frame: pkt.number,
                        ts: pkt.ts_ns,
                        seq: p.seq,
                        len: p.len as u32,
                        pass: if p.analyse {
                            crate::analysis::Pass::InOrder
                        } else {
                            crate::analysis::Pass::Early
                        },
                        first_node,
                        handshake,
                    };
                    self.analysis.fpdu(&mut self.tree, &at, &s);
                    if s.ok {
                        self.protocols.push(":iwarp_ddp_rdmap");
                    }
                    if s.iscsi.is_some() {
                        self.protocols.push(if s.iser_stags.is_some() {
                            ":iser:iscsi"
                        } else {
                            ":iscsi"
                        });
                    } else if s.data {
                        self.protocols.push(":data");
                    }
                    let l = if s.qualifier.is_some() {
                        Layer::OneShot
                    } else if s.iscsi.is_some() {
                        Layer::Iscsi
                    } else {
                        Layer::Rdma
                    };
                    if l as u8 > layer as u8 || layer == Layer::Tcp {
                        layer = l;
                    }
                    if want_info {
                        let ports = &mut self.info_ports;
                        let info = next_info(&mut self.summary.info, ports, &mut infos, tcp);
                        fpdu_info(info, &s, self.cfg.disabled);
                    }
                }
            }
        }
        if pdus.is_empty() && payload_len > 0 && !framed {
            // Nothing above TCP claims the payload: like tshark, show it as data.
            self.plain_data(offset_in(data, tcp.payload()), payload_len);
        }
        self.out.pdus = pdus;
        // A FIN or RST ends what one side (or both) can still close.
        if tcp.fin() || tcp.rst() {
            self.analysis
                .ended(&mut self.tree, stream, dir, tcp.rst(), pkt.number);
        }
        if layer != Layer::Tcp {
            self.summary.protocol = match layer {
                Layer::Mpa => "MPA",
                Layer::Rdma => "DDP/RDMA",
                Layer::OneShot => "one-shot",
                Layer::Iscsi => "iSCSI",
                Layer::Tcp => "TCP",
            };
        }
        self.summary.layer = layer;
    }

    /// Turns the frame's expert findings into `_ws.expert` nodes (filterable, printable): each
    /// under the node it is about, where tshark shows it, or at the end of the tree.
    fn experts_to_nodes(&mut self) {
        let n = self.tree.experts.len();
        let worst = self.tree.experts.iter().map(|e| e.severity).max();
        self.summary.worst = worst;
        if self.tree.detail() == Detail::Off {
            return;
        }
        // Findings about no node go at the end, in the order they were added; then the others,
        // from the last position back so earlier positions stay valid (at one position they
        // keep the order they were added in).
        let mut order = std::mem::take(&mut self.expert_order);
        order.clear();
        order.extend((0..n).filter(|&i| self.tree.experts[i].at == u32::MAX));
        let unplaced = order.len();
        order.extend((0..n).filter(|&i| self.tree.experts[i].at != u32::MAX));
        order[unplaced..]
            .sort_unstable_by_key(|&i| std::cmp::Reverse((self.tree.experts[i].at, i)));
        let mut block = std::mem::take(&mut self.expert_nodes);
        for &i in &order {
            let e = self.tree.experts[i];
            let (start, len, src, depth) = e
                .node
                .and_then(|k| self.tree.nodes.get(k as usize))
                .map(|node| {
                    (
                        node.start as usize,
                        node.len as usize,
                        node.src,
                        node.depth + 1,
                    )
                })
                .unwrap_or((0, 0, FRAME_SOURCE, 0));
            let msg = self.tree.arena_str(e.text).to_string();
            // Build the five nodes at the end, then move them into place.
            let first = self.tree.nodes.len();
            self.tree.set_depth(depth);
            let top = self.tree.add(f::_WS_EXPERT, Value::None, src, start, len);
            self.tree.label(
                top,
                format_args!(
                    "Expert Info ({}/{}): {msg}",
                    severity_word(e.severity),
                    group_word(e.field)
                ),
            );
            self.tree.push();
            // As tshark: the expert's own field reads the message; `_ws.expert.message` is
            // hidden.
            let k = self.tree.add(e.field, Value::None, src, start, len);
            self.tree.set_label(k, e.text);
            let (a, b) = e.text;
            self.tree
                .add_hidden(f::_WS_EXPERT_MESSAGE, Value::Text(a, b), src, start, len);
            self.tree.add(
                f::_WS_EXPERT_SEVERITY,
                Value::Uint(severity_code(e.severity)),
                src,
                start,
                len,
            );
            self.tree.add(
                f::_WS_EXPERT_GROUP,
                Value::Uint(group_code(e.field)),
                src,
                start,
                len,
            );
            self.tree.pop();
            let at = (e.at as usize).min(first);
            if at < first {
                block.clear();
                block.extend(self.tree.nodes.drain(first..));
                self.tree.nodes.splice(at..at, block.drain(..));
            }
        }
        self.tree.set_depth(0);
        self.expert_order = order;
        self.expert_nodes = block;
    }

    /// First pass of `-2`: which frames carried the PDU `k` this frame (`number`) completes.
    #[cold]
    #[inline(never)]
    fn learn_reassembly(&mut self, stream: u64, k: usize, number: u64) {
        let frames = self.pieces.iter().map(|p| p.frame).filter(|&f| f != number);
        if let (Some(first), Some(last)) = (frames.clone().min(), frames.max()) {
            self.learnt
                .reassembled
                .entry((stream, self.out.pdus[k].dir))
                .or_default()
                .push((first, last, number));
        }
    }

    /// Second pass of `-2`: the frame that completes the PDU this frame's open payload item
    /// `t` begins, when the first pass saw one.
    #[cold]
    #[inline(never)]
    fn reassembled_later(&mut self, stream: u64, dir: usize, number: u64, t: usize) {
        let Some(h) = &self.cfg.hindsight else { return };
        if let Some(done) = h.reassembled_in(stream, dir, number) {
            self.payload_items
                .insert(t, PayloadItem::ReassembledIn(done));
        }
    }

    /// The "Reassembled TCP" source of PDU `k`, which this frame completes from octets held
    /// over several segments, with TCP's list of those segments.
    #[cold]
    #[inline(never)]
    fn reassembled_source(&mut self, k: usize) {
        let p = self.out.pdus[k];
        if let Location::Held(o) = p.at {
            let (sid, buf) = self.tree.new_source("Reassembled TCP");
            buf.extend_from_slice(&self.out.held[o..o + p.len]);
            self.reassembled_src = Some((o, sid));
            let held = &self.out.held[o..o + p.len];
            build::tcp_segments(&mut self.tree, &self.pieces, p.seq, sid, held);
        }
    }

    /// The framer's events of this frame as expert findings.
    #[cold]
    #[inline(never)]
    fn framer_events(&mut self) {
        for (dir, ev) in std::mem::take(&mut self.out.events) {
            match ev {
                crate::mpa::Event::Heuristic => {
                    self.tree.expert(
                        f::IWARP_MPA_HEURISTIC,
                        Severity::Note,
                        None,
                        format_args!("MPA recognised without the Request/Reply (direction {dir})"),
                    );
                }
                crate::mpa::Event::Resync { skipped } => {
                    self.tree.expert(
                        f::IWARP_MPA_EXPERT_RESYNC,
                        Severity::Warning,
                        None,
                        format_args!("Resynchronised: {skipped} octets skipped to the next FPDU"),
                    );
                }
                crate::mpa::Event::Rejected => {}
            }
        }
    }

    /// A TCP payload no protocol above claims, as tshark's `data` protocol.
    #[inline(never)]
    fn plain_data(&mut self, off: usize, payload_len: usize) {
        let mut b = build::B::new(&mut self.tree, FRAME_SOURCE, off);
        let d = b.v(f::DATA, Value::Bytes, 0, payload_len);
        b.t.push();
        b.t.label(d, format_args!("Data ({payload_len} bytes)"));
        b.bytes(f::DATA_DATA, 0, payload_len);
        b.u(f::DATA_LEN, payload_len as u64, 0, payload_len);
        b.close();
        self.protocols.push(":data");
    }

    /// A new conversation for `key` (`new`: the table just handed out `index`; else the
    /// conversation at `index` ends, its ports reused); returns its index. Out of the per-frame
    /// path: it runs once per connection.
    #[cold]
    #[inline(never)]
    fn start_conv(
        &mut self,
        key: ConvKey,
        mut index: usize,
        new: bool,
        ts: i64,
        ports: (u16, u16),
    ) -> usize {
        if !new {
            if let Some(old) = self.convs[index].take() {
                self.learn_end(&old);
            }
            index = self.table.renew(key);
        }
        debug_assert_eq!(
            index,
            self.convs.len(),
            "stream indices are handed out in order"
        );
        let mut conv = Conv {
            index: index as u64,
            dirs: [Direction::default(), Direction::default()],
            tcpa: tcp_analysis::Conn::default(),
            mpa: MpaConv::default(),
            first_ts: ts,
            last_ts: ts,
        };
        if self.cfg.disabled.mpa {
            conv.mpa.disable();
        } else {
            for d in &self.cfg.decode_as {
                if d.port == ports.0 || d.port == ports.1 {
                    conv.mpa.force(d.forced);
                }
            }
        }
        if !new {
            conv.tcpa.reused();
        }
        self.convs.push(Some(conv));
        index
    }

    /// Notes a conversation's final values (first pass of `-2`).
    fn learn_end(&mut self, c: &Conv) {
        if self.cfg.learn {
            self.learnt
                .ends
                .insert(c.index, (c.tcpa.completeness(), c.tcpa.initial_rtt()));
        }
    }

    /// After a first pass (`-2`): what it learnt, for [`Config::hindsight`] of the second.
    pub fn into_hindsight(mut self) -> Hindsight {
        let convs = std::mem::take(&mut self.convs);
        for c in convs.iter().flatten() {
            self.learn_end(c);
        }
        self.learnt
    }

    /// Finishes the capture: what reassembly still held, and STags never closed.
    pub fn finish(&mut self) -> Vec<crate::analysis::Leak> {
        self.analysis.leaks()
    }
}

/// What TCP says about a segment's payload.
#[derive(Default)]
struct PayloadView {
    /// Info gets " [TCP segment of a reassembled PDU]": every new octet belongs to a PDU that
    /// is not complete yet.
    suffix: bool,
    /// The PDU (index in the framer's output) completed here from earlier segments.
    reassembled: Option<usize>,
    /// Index in the items of the segment data of a PDU still open at the end of the segment.
    open: Option<usize>,
}

/// tshark's view of the payload a framer reads: the size of each PDU framed in the segment
/// (MPA only, as tshark's `tcp_dissect_pdus` reports it), the segment data of a PDU spanning
/// segments (the end of one completed here, the start of one still open) and, for the PDU
/// completed here from earlier segments, the pieces it was made of. A retransmission is all
/// "Retransmitted TCP segment data"; tshark hands out-of-order and spurious copies to no one.
#[allow(clippy::too_many_arguments)]
fn payload_view(
    d: &mut Direction,
    state: DirState,
    dir: usize,
    payload_seq: u32,
    payload_len: usize,
    arrival: &crate::stream::Arrival,
    flags: u16,
    pdus: &[Pdu],
    want_items: bool,
    items: &mut Vec<PayloadItem>,
    pieces: &mut Vec<Piece>,
) -> PayloadView {
    use crate::stream::seq_diff;
    let mut view = PayloadView::default();
    if payload_len == 0 {
        return view;
    }
    if flags & flag::RETRANSMISSION != 0 {
        if want_items {
            items.push(PayloadItem::Data {
                off: 0,
                len: payload_len,
                retransmitted: true,
            });
        }
        return view;
    }
    if flags & (flag::SPURIOUS_RETRANSMISSION | flag::OUT_OF_ORDER) != 0 {
        return view;
    }
    let own = arrival.own.filter(|&(_, n)| n > 0);
    let mut cursor = own.map(|(s, _)| s);
    let mut last_end = None;
    let mut any = false;
    for (k, p) in pdus.iter().enumerate().filter(|(_, p)| p.dir == dir) {
        // FPDUs shown earlier (they came out of order) only move the framing on.
        any |= p.show;
        if want_items
            && p.show
            && matches!(p.kind, PduKind::Request | PduKind::Reply | PduKind::Fpdu)
        {
            items.push(PayloadItem::PduSize(p.len as u32));
        }
        let end = p.seq.wrapping_add(p.len as u32);
        last_end = Some(end);
        let Some((os, olen)) = own else { continue };
        let own_end = os.wrapping_add(olen as u32);
        if seq_diff(p.seq, os) < 0 && seq_diff(end, os) > 0 {
            // Its start came in earlier segments: this one completes it.
            let head_end = if seq_diff(end, own_end) < 0 {
                end
            } else {
                own_end
            };
            if want_items {
                items.push(PayloadItem::Data {
                    off: os.wrapping_sub(payload_seq) as usize,
                    len: head_end.wrapping_sub(os) as usize,
                    retransmitted: false,
                });
            }
            if view.reassembled.is_none() && matches!(p.at, Location::Held(_)) {
                view.reassembled = Some(k);
                ledger_pieces(d, p.seq, end, pieces);
            }
        }
        if let Some(c) = cursor {
            if seq_diff(end, c) > 0 {
                cursor = Some(end);
            }
        }
    }
    if let Some(e) = last_end {
        d.consume(e);
    }
    if let (Some((os, olen)), Some(c)) = (own, cursor) {
        let own_end = os.wrapping_add(olen as u32);
        let framing = matches!(state, DirState::Startup | DirState::Fpdus | DirState::Iscsi);
        if framing && seq_diff(own_end, c) > 0 {
            view.open = Some(items.len());
            if want_items {
                items.push(PayloadItem::Data {
                    off: c.wrapping_sub(payload_seq) as usize,
                    len: own_end.wrapping_sub(c) as usize,
                    retransmitted: false,
                });
            }
            view.suffix = !any && c == os;
        }
    }
    view
}

/// The segments of the PDU at `start..end` that a frame completes from earlier ones (rare: out
/// of the per-frame path, whose setup of the ledger's iterator it would otherwise pay for).
#[cold]
#[inline(never)]
fn ledger_pieces(d: &Direction, start: u32, end: u32, pieces: &mut Vec<Piece>) {
    pieces.extend(d.pieces(start, end));
}

/// `frame.protocols` of the current frame, written only when the tree builds that field (the
/// whole tree, `-T fields` naming it, or `-z io,phs`, which asks for it; summary lines and `-q`
/// do not).
#[derive(Debug)]
struct Stack {
    on: bool,
    text: String,
}

impl Stack {
    /// Appends `s` as it is (it starts with its own `:`, or is the first layer).
    fn push(&mut self, s: &str) {
        if self.on {
            self.text.push_str(s);
        }
    }

    /// Appends the layer `s`, after a `:` unless it is the first.
    fn layer(&mut self, s: &str) {
        if self.on {
            if !self.text.is_empty() {
                self.text.push(':');
            }
            self.text.push_str(s);
        }
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Chat => "Chat",
        Severity::Note => "Note",
        Severity::Warning => "Warning",
        Severity::Error => "Error",
    }
}

/// Wireshark's PI_* severity values.
fn severity_code(s: Severity) -> u64 {
    match s {
        Severity::Chat => 0x0020_0000,
        Severity::Note => 0x0040_0000,
        Severity::Warning => 0x0060_0000,
        Severity::Error => 0x0080_0000,
    }
}

/// Wireshark's PI_* group for an expert field.
fn group_code(field: crate::field::FieldId) -> u64 {
    let a = field.def().abbrev;
    if a.starts_with("tcp.analysis.")
        || a.starts_with("tcp.connection.")
        || a == "tcp.options.sack.dsack"
    {
        0x0200_0000 // PI_SEQUENCE
    } else if a.contains("crc") {
        0x0100_0000 // PI_CHECKSUM
    } else if a.contains("msn")
        || a.contains("gap")
        || a.contains("resync")
        || a.contains("mo_")
        || a.contains("last")
    {
        0x0200_0000 // PI_SEQUENCE
    } else if a == "_ws.malformed" || a.contains("bad_length") {
        0x0700_0000 // PI_MALFORMED
    } else {
        0x0900_0000 // PI_PROTOCOL
    }
}

pub(crate) fn group_word(field: crate::field::FieldId) -> &'static str {
    match group_code(field) {
        0x0100_0000 => "Checksum",
        0x0200_0000 => "Sequence",
        0x0700_0000 => "Malformed",
        _ => "Protocol",
    }
}

/// The FPDU `wire` without its markers (the first at `pos`) in `plain`, and in a source of the
/// tree of its own, whose id is returned.
#[cold]
#[inline(never)]
fn strip_markers(tree: &mut Tree, plain: &mut Vec<u8>, wire: &[u8], pos: u32) -> tree::SourceId {
    let n = marker::stripped_len(pos, wire.len());
    plain.resize(n, 0);
    let _ = marker::strip_markers(wire, pos, plain);
    let (sid, buf) = tree.new_source("FPDU without Markers");
    buf.extend_from_slice(plain);
    sid
}

/// The finding for `n` octets that reassembly skipped (never captured).
#[cold]
#[inline(never)]
fn gap_expert(tree: &mut Tree, n: u64) {
    tree.expert(
        f::IWARP_MPA_EXPERT_GAP,
        Severity::Warning,
        None,
        format_args!("{n} octets never captured: reassembly skipped them"),
    );
}

/// An FPDU shown in an earlier frame (it arrived out of order) that reassembly has now
/// reached: decoded into the never-built `scratch` tree for its summary, to be analysed in
/// stream order.
#[cold]
#[inline(never)]
fn analyse_only(
    plain_buf: &mut Vec<u8>,
    scratch: &mut Tree,
    p: &crate::mpa::Pdu,
    wire: &[u8],
    settings: Settings,
    disabled: build::Disabled,
) -> FpduSummary {
    let plain: &[u8] = match p.marker_pos {
        Some(pos) if marker::stripped_len(pos, wire.len()) < wire.len() => {
            plain_buf.resize(marker::stripped_len(pos, wire.len()), 0);
            let _ = marker::strip_markers(wire, pos, plain_buf);
            plain_buf
        }
        _ => wire,
    };
    scratch.clear();
    let ctx = FpduCtx {
        wire,
        wire_src: FRAME_SOURCE,
        wire_base: 0,
        marker_pos: p.marker_pos,
        plain,
        plain_src: FRAME_SOURCE,
        plain_base: 0,
        crc: p.crc,
        settings,
        disabled,
    };
    build::fpdu(scratch, &ctx)
}

/// Appends the Info column text of one FPDU to `out`.
fn fpdu_info(out: &mut String, s: &FpduSummary, disabled: build::Disabled) {
    let Some(op) = s.opcode else {
        out.push_str("FPDU [malformed DDP/RDMAP]");
        return;
    };
    let name = match op {
        Opcode::RdmaWrite => "Write",
        Opcode::RdmaReadRequest => "Read Request",
        Opcode::RdmaReadResponse => "Read Response",
        Opcode::Send => "Send",
        Opcode::SendInvalidate => "Send Inv",
        Opcode::SendSe => "Send SE",
        Opcode::SendSeInvalidate => "Send SE Inv",
        Opcode::Terminate => "Terminate",
        Opcode::ImmediateData => "Immediate Data",
        Opcode::ImmediateDataSe => "Immediate Data SE",
        Opcode::AtomicRequest => "Atomic Request",
        Opcode::AtomicResponse => "Atomic Response",
        Opcode::SendSeAdvertise | Opcode::SendSeClose => "Send SE",
        Opcode::Unknown(_) => "Unknown",
    };
    let op = match op {
        // Without the extension these opcodes are RFC 5040's unassigned 0x8 and 0xC.
        Opcode::SendSeAdvertise if disabled.oneshot => Opcode::Unknown(0x8),
        Opcode::SendSeClose if disabled.oneshot => Opcode::Unknown(0xC),
        o => o,
    };
    out.push_str(if matches!(op, Opcode::Unknown(_)) {
        "Unknown"
    } else {
        name
    });
    if let Opcode::Unknown(v) = op {
        let _ = write!(out, " (0x{v:x})");
    }
    match s.qualifier {
        Some((Op::Advertise, stag)) => {
            out.push_str("+Advertise S=0x");
            text::push_hex(out, stag.into(), 8);
        }
        Some((Op::Close, stag)) => {
            out.push_str("+Close S=0x");
            text::push_hex(out, stag.into(), 8);
        }
        None => {
            if let Some(stag) = s.oneshot_stag {
                let _ = write!(out, "+[both bits] S=0x{stag:08x}");
            }
        }
    }
    if s.tagged {
        // " STag=0x{stag:08x} TO=0x{to:x} len={payload_len}"
        out.push_str(" STag=0x");
        text::push_hex(out, s.stag.into(), 8);
        out.push_str(" TO=0x");
        text::push_hex(out, s.to, 0);
        out.push_str(" len=");
        text::push_dec(out, s.payload_len);
    } else {
        if let Some((sink, size, source)) = s.read {
            // " sink=0x{sink:08x} size={size} source=0x{source:08x}"
            out.push_str(" sink=0x");
            text::push_hex(out, sink.into(), 8);
            out.push_str(" size=");
            text::push_dec(out, size);
            out.push_str(" source=0x");
            text::push_hex(out, source.into(), 8);
        }
        out.push_str(" MSN=");
        text::push_dec(out, s.msn);
        if s.mo != 0 {
            out.push_str(" MO=");
            text::push_dec(out, s.mo);
        }
        if s.qn > 3 || (op.queue().is_some_and(|q| q != s.qn)) {
            out.push_str(" QN=");
            text::push_dec(out, s.qn);
        }
    }
    if !s.last {
        out.push_str(" [more]");
    }
    if let Some((l, e, c)) = s.terminate {
        let _ = write!(out, " layer={l} etype={e} code=0x{c:02x}");
    }
    if let Some(values) = s.iscsi {
        out.push_str(" [");
        iscsi_head(out, values);
        out.push(']');
    }
    if s.crc == Some(crate::mpa::CrcStatus::Bad) {
        out.push_str(" [BAD CRC]");
    }
}

/// Starts one more PDU's part of the Info column: "SRC_PORT > DST_PORT " before the first
/// (replacing what was there), "; " before the others. Returns the column to append to.
fn next_info<'a>(
    info: &'a mut String,
    ports: &mut text::Recent<(u16, u16)>,
    count: &mut usize,
    tcp: &TcpSlice<'_>,
) -> &'a mut String {
    if *count == 0 {
        info.clear();
        let key = (tcp.source_port(), tcp.destination_port());
        ports.push(info, key, |t, (s, d)| {
            text::push_dec(t, s);
            t.push_str(" > ");
            text::push_dec(t, d);
            t.push(' ');
        });
    } else {
        info.push_str("; ");
    }
    *count += 1;
    info
}

/// "iSCSI {name}{ R| W| RW} ITT=0x{itt:x}", then " EDTL={edtl}" for a SCSI Command or
/// " status=0x{status:02x}" for a SCSI Response: an iSCSI PDU's Info text from the values
/// both its transports know (the direction for a SCSI Command only).
fn iscsi_head(out: &mut String, (opc, itt, edtl, flags, status): (u8, u32, u32, u8, u8)) {
    out.push_str("iSCSI ");
    out.push_str(IscsiOpcode::from_raw(opc).name());
    if opc == 0x01 {
        out.push_str(match (flags & 0x40 != 0, flags & 0x20 != 0) {
            (true, true) => " RW",
            (true, false) => " R",
            (false, true) => " W",
            _ => "",
        });
    }
    out.push_str(" ITT=0x");
    text::push_hex(out, itt.into(), 0);
    if opc == 0x01 {
        out.push_str(" EDTL=");
        text::push_dec(out, edtl);
    } else if opc == 0x21 {
        out.push_str(" status=0x");
        text::push_hex(out, status.into(), 2);
    }
}

/// Appends the Info column text of an iSCSI PDU over plain TCP.
fn iscsi_info(out: &mut String, b: &Bhs<&[u8]>, values: (u8, u32, u32, u8, u8)) {
    iscsi_head(out, values);
    // Then " R2TSN={} offset={} len={}" or " DataSN={} offset={} len={}" by opcode.
    let (sn, offset, len) = match values.0 {
        0x31 => {
            out.push_str(" R2TSN=");
            (b.r2tsn(), b.buffer_offset(), b.desired_len())
        }
        0x05 | 0x25 => {
            out.push_str(" DataSN=");
            (b.datasn(), b.buffer_offset(), b.data_segment_len())
        }
        _ => return,
    };
    text::push_dec(out, sn);
    out.push_str(" offset=");
    text::push_dec(out, offset);
    out.push_str(" len=");
    text::push_dec(out, len);
}
