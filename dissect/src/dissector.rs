//! The dissector: one captured packet in, its field tree and summary line out. It keeps the
//! state that spans packets: TCP conversations and their reassembly, MPA per direction, and the
//! analysis of STag lifecycles.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use oneshot_codec::etherparse::{LaxIpSlice, TcpSlice};
use oneshot_codec::iscsi::{Bhs, IscsiOpcode};
use oneshot_codec::mpa::marker;
use oneshot_codec::oneshot::Op;
use oneshot_codec::rdmap::{Opcode, Settings};

use crate::analysis::Analysis;
use crate::build::{self, FpduCtx, FpduSummary, FrameInfo, TcpInfo};
use crate::capture::{LinkType, Packet};
use crate::link::{self, LinkHeader};
use crate::mpa::{Forced, FrameOut, Location, MpaConv, PduKind};
use crate::registry::f;
use crate::stream::{ConvKey, ConvTable, Direction};
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
        self.info.clear();
        self.worst = None;
        self.layer = Layer::Tcp;
    }
}

/// A TCP conversation.
#[derive(Debug)]
struct Conv {
    index: u64,
    dirs: [Direction; 2],
    /// Sequence number shown as 0 in each direction.
    rel_base: [Option<u32>; 2],
    syn: [Option<Option<u8>>; 2],
    mpa: MpaConv,
    first_ts: i64,
    last_ts: i64,
}

/// The dissector.
pub struct Dissector {
    cfg: Config,
    convs: HashMap<ConvKey, Conv>,
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
    protocols: String,
    pending_total: usize,
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

fn window_scale(t: &TcpSlice<'_>) -> Option<u8> {
    let o = t.options();
    let mut i = 0;
    while i < o.len() {
        match o[i] {
            0 => return None,
            1 => i += 1,
            3 if i + 2 < o.len() && o[i + 1] == 3 => return Some(o[i + 2].min(14)),
            _ => {
                let l = usize::from(*o.get(i + 1)?).max(2);
                i += l;
            }
        }
    }
    None
}

impl Dissector {
    /// A dissector with these settings.
    pub fn new(cfg: Config) -> Self {
        let detail = cfg.detail;
        Dissector {
            cfg,
            convs: HashMap::new(),
            table: ConvTable::default(),
            first_ts: None,
            prev_ts: None,
            prev_displayed: None,
            tree: {
                let mut t = Tree::default();
                t.set_detail(detail);
                t
            },
            summary: Summary::default(),
            scratch: {
                let mut t = Tree::default();
                t.set_detail(Detail::Off);
                t
            },
            analysis: Analysis::default(),
            out: FrameOut::default(),
            plain: Vec::new(),
            protocols: String::new(),
            pending_total: 0,
            frames: 0,
            fpdus: 0,
            bad_crcs: 0,
            fpdu_bytes: 0,
        }
    }

    /// The last frame's protocol stack, as `frame.protocols` shows it.
    pub fn protocols(&self) -> &str {
        &self.protocols
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
        self.protocols.clear();
        let first = *self.first_ts.get_or_insert(pkt.ts_ns);
        let delta = self.prev_ts.map_or(0, |p| pkt.ts_ns - p);
        self.prev_ts = Some(pkt.ts_ns);
        let delta_displayed = self.prev_displayed.map_or(0, |p| pkt.ts_ns - p);
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
        let tree_on = self.tree.detail() != Detail::Off;
        let protocols_node = if tree_on {
            build::frame(&mut self.tree, &fi)
        } else {
            tree::NO_NODE
        };
        self.summary.clear();
        let data = pkt.data;
        let lf = link::decode(pkt.link, data);
        match &lf.link_header {
            Some(h @ (LinkHeader::Sll { .. } | LinkHeader::Sll2 { .. })) => {
                build::link_header(&mut self.tree, h, lf.l2_len);
                self.protocols.push_str("sll:ethertype");
            }
            Some(h @ LinkHeader::Null { .. }) => {
                build::link_header(&mut self.tree, h, lf.l2_len);
                self.protocols.push_str("null");
            }
            None => {}
        }
        let fr = &lf.frame;
        if let Some(eth) = &fr.ethernet {
            // Ethernet padding: octets after the IP packet.
            let padding = fr.ip.as_ref().and_then(|ip| {
                let end = offset_in(data, ip.payload().payload) + ip.payload().payload.len();
                (end < data.len() && !ip.payload().incomplete).then(|| (end, data.len() - end))
            });
            if tree_on {
                build::ethernet(&mut self.tree, eth, padding);
            }
            self.protocols.push_str("eth:ethertype");
            if self.cfg.summary {
                let _ = write!(self.summary.src, "{}", build::Mac(&eth.source()));
                let _ = write!(self.summary.dst, "{}", build::Mac(&eth.destination()));
            }
            self.summary.protocol = "Ethernet";
        }
        for v in fr.vlan_tags() {
            if tree_on {
                build::vlan(&mut self.tree, v, offset_in(data, v.slice()));
            }
            self.protocols.push_str(":vlan:ethertype");
        }
        let mut addrs: Option<(IpAddr, IpAddr)> = None;
        match &fr.ip {
            Some(LaxIpSlice::Ipv4(ip)) => {
                if tree_on {
                    build::ipv4(&mut self.tree, ip, offset_in(data, ip.header().slice()));
                }
                sep(&mut self.protocols);
                self.protocols.push_str("ip");
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
                sep(&mut self.protocols);
                self.protocols.push_str("ipv6");
                addrs = Some((
                    ip.header().source_addr().into(),
                    ip.header().destination_addr().into(),
                ));
                self.summary.protocol = "IPv6";
            }
            None => {}
        }
        if let (Some((s, d)), true) = (addrs, self.cfg.summary) {
            self.summary.src.clear();
            self.summary.dst.clear();
            let _ = write!(self.summary.src, "{s}");
            let _ = write!(self.summary.dst, "{d}");
        }
        if let (Some(tcp), Some((sa, da))) = (fr.tcp.as_ref(), addrs) {
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
            self.tree.text_value(format_args!("{}", self.protocols))
        } else {
            Value::None
        };
        if let Some(n) = self.tree.nodes.get_mut(protocols_node as usize) {
            n.value = protocols;
        }
        self.experts_to_nodes();
    }

    /// TCP: conversation, reassembly, MPA and everything above.
    fn tcp(&mut self, pkt: &Packet<'_>, tcp: &TcpSlice<'_>, sa: IpAddr, da: IpAddr, data: &[u8]) {
        let (key, dir) = ConvKey::of((sa, tcp.source_port()), (da, tcp.destination_port()));
        let (index, new) = self.table.get(key);
        let cfg = &self.cfg;
        let conv = self.convs.entry(key).or_insert_with(|| Conv {
            index: index as u64,
            dirs: [Direction::default(), Direction::default()],
            rel_base: [None, None],
            syn: [None, None],
            mpa: MpaConv::default(),
            first_ts: pkt.ts_ns,
            last_ts: pkt.ts_ns,
        });
        if new && cfg.disabled.mpa {
            conv.mpa.disable();
        }
        if new && !cfg.disabled.mpa {
            for d in &cfg.decode_as {
                if d.port == tcp.source_port() || d.port == tcp.destination_port() {
                    conv.mpa.force(d.forced);
                }
            }
        }
        let seq = tcp.sequence_number();
        if tcp.syn() {
            conv.rel_base[dir] = Some(seq);
            conv.syn[dir] = Some(window_scale(tcp));
            conv.dirs[dir].syn(seq);
        }
        let base = *conv.rel_base[dir].get_or_insert(seq.wrapping_sub(1));
        let ack = tcp.acknowledgment_number();
        let peer_base = if tcp.ack() {
            *conv.rel_base[1 - dir].get_or_insert(ack.wrapping_sub(1))
        } else {
            0
        };
        let (scale, scale_none) = match (conv.syn[dir], conv.syn[1 - dir]) {
            (Some(Some(s)), Some(Some(_))) => (Some(s), false),
            (Some(_), Some(_)) => (None, true),
            _ => (None, false),
        };
        let info = TcpInfo {
            stream: conv.index,
            seq: seq.wrapping_sub(base),
            ack: ack.wrapping_sub(peer_base),
            scale,
            scale_none,
            time_relative_ns: pkt.ts_ns - conv.first_ts,
            time_delta_ns: pkt.ts_ns - conv.last_ts,
        };
        conv.last_ts = pkt.ts_ns;
        let tcp_off = offset_in(data, tcp.header_slice());
        build::tcp(&mut self.tree, tcp, tcp_off, &info);
        sep(&mut self.protocols);
        self.protocols.push_str("tcp");
        self.summary.protocol = "TCP";
        let payload = tcp.payload();
        // iSCSI over plain TCP on its port.
        if conv.mpa.phase == crate::mpa::Phase::Unknown
            && !cfg.disabled.iscsi
            && (tcp.source_port() == cfg.iscsi_port || tcp.destination_port() == cfg.iscsi_port)
            && !payload.is_empty()
            && !payload.starts_with(&oneshot_codec::mpa::KEY_REQUEST[..9])
            && oneshot_codec::iscsi::looks_like_bhs(payload)
        {
            conv.mpa.iscsi_tcp();
        }
        // Reassembly.
        let before = conv.dirs[dir].pending_bytes();
        let budget = cfg
            .reassembly_cap
            .saturating_sub(self.pending_total.saturating_sub(before));
        let Conv { dirs, mpa, .. } = conv;
        let out = &mut self.out;
        let number = pkt.number;
        let arrival = dirs[dir].data(
            seq.wrapping_add(u32::from(tcp.syn())),
            payload,
            budget,
            &mut |s, b| mpa.feed(dir, s, b, data, number, out),
        );
        if arrival.fresh == 0 && (arrival.out_of_order || arrival.duplicate) {
            mpa.segment_alone(dir, seq, payload, data, arrival.duplicate, out);
        }
        if tcp.fin() {
            dirs[dir].fin_seen = true;
        }
        let after = dirs[dir].pending_bytes();
        self.pending_total = self.pending_total + after - before.min(self.pending_total + after);
        let stream = conv.index;
        let framed = !matches!(
            conv.mpa.dirs[dir].state,
            crate::mpa::DirState::Unknown | crate::mpa::DirState::Off
        );
        // Summary of the TCP segment itself.
        let mut flags = String::new();
        for (on, n) in [
            (tcp.fin(), "FIN"),
            (tcp.syn(), "SYN"),
            (tcp.rst(), "RST"),
            (tcp.psh(), "PSH"),
            (tcp.ack(), "ACK"),
        ] {
            if on {
                if !flags.is_empty() {
                    flags.push_str(", ");
                }
                flags.push_str(n);
            }
        }
        let _ = write!(
            self.summary.info,
            "{} \u{2192} {} [{flags}] Seq={}",
            tcp.source_port(),
            tcp.destination_port(),
            info.seq
        );
        if tcp.ack() {
            let _ = write!(self.summary.info, " Ack={}", info.ack);
        }
        let _ = write!(
            self.summary.info,
            " Win={} Len={}",
            tcp.window_size(),
            payload.len()
        );
        if arrival.out_of_order {
            self.summary.info.insert_str(0, "[TCP Out-Of-Order] ");
        } else if arrival.duplicate {
            self.summary.info.insert_str(0, "[TCP Retransmission] ");
        }
        if let Some(n) = arrival.skipped {
            self.tree.expert(
                f::IWARP_MPA_EXPERT_GAP,
                Severity::Warning,
                None,
                format_args!("{n} octets never captured: reassembly skipped them"),
            );
        }
        self.upper(pkt, stream, data, tcp, payload.len(), framed);
    }

    /// The PDUs completed in this frame.
    fn upper(
        &mut self,
        pkt: &Packet<'_>,
        stream: u64,
        data: &[u8],
        tcp: &TcpSlice<'_>,
        payload_len: usize,
        framed: bool,
    ) {
        let settings = self.cfg.settings;
        let mut infos: Vec<String> = Vec::new();
        let want_info = self.cfg.summary;
        let mut layer = Layer::Tcp;
        let mut proto_mpa = false;
        let mut proto_iscsi = false;
        let pdus = std::mem::take(&mut self.out.pdus);
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
        for p in &pdus {
            let wire: &[u8] = self.out.wire(data, p);
            let (wsrc, wbase) = match p.at {
                Location::Frame(o) => (FRAME_SOURCE, o),
                Location::Held(_) => {
                    let (sid, buf) = self.tree.new_source("Reassembled TCP");
                    buf.extend_from_slice(wire);
                    (sid, 0)
                }
            };
            match p.kind {
                PduKind::Request | PduKind::Reply | PduKind::BadFrame => {
                    if !proto_mpa {
                        self.protocols.push_str(":iwarp_mpa");
                    }
                    proto_mpa = true;
                    let s = build::mpa_frame(&mut self.tree, wsrc, wbase, wire, p.kind);
                    if want_info {
                        infos.push(s);
                    }
                    if layer == Layer::Tcp {
                        layer = Layer::Mpa;
                    }
                }
                PduKind::Iscsi => {
                    if !proto_iscsi {
                        sep(&mut self.protocols);
                        self.protocols.push_str("iscsi");
                    }
                    proto_iscsi = true;
                    if let Ok(bhs) = Bhs::new_checked(wire) {
                        let r = build::iscsi(&mut self.tree, wsrc, wbase, &bhs);
                        if want_info {
                            infos.push(iscsi_info(&bhs, r));
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
                        let disabled = self.cfg.disabled;
                        let Dissector {
                            plain,
                            scratch,
                            analysis,
                            tree,
                            ..
                        } = self;
                        let s = analyse_only(plain, scratch, p, wire, settings, disabled);
                        analysis.fpdu(tree, stream, p.dir, pkt.number, pkt.ts_ns, &s);
                        continue;
                    }
                    // tshark's layers: MPA once per segment, then each FPDU's DDP/RDMAP and
                    // what it carries.
                    if !proto_mpa {
                        self.protocols.push_str(":iwarp_mpa");
                    }
                    proto_mpa = true;
                    // Strip markers into a source of their own.
                    let (plain, psrc, pbase): (&[u8], _, _) = match p.marker_pos {
                        Some(pos) if marker::stripped_len(pos, wire.len()) < wire.len() => {
                            let n = marker::stripped_len(pos, wire.len());
                            self.plain.resize(n, 0);
                            let _ = marker::strip_markers(wire, pos, &mut self.plain);
                            let (sid, buf) = self.tree.new_source("FPDU without Markers");
                            buf.extend_from_slice(&self.plain);
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
                    let s = build::fpdu(&mut self.tree, &ctx);
                    if p.analyse {
                        self.analysis.fpdu(
                            &mut self.tree,
                            stream,
                            p.dir,
                            pkt.number,
                            pkt.ts_ns,
                            &s,
                        );
                    }
                    if s.ok {
                        self.protocols.push_str(":iwarp_ddp_rdmap");
                    }
                    if s.iscsi.is_some() {
                        self.protocols.push_str(if s.iser_stags.is_some() {
                            ":iser:iscsi"
                        } else {
                            ":iscsi"
                        });
                    } else if s.data {
                        self.protocols.push_str(":data");
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
                        infos.push(fpdu_info(&s, settings, self.cfg.disabled));
                    }
                }
            }
        }
        self.out.pdus = pdus;
        if layer != Layer::Tcp {
            self.summary.protocol = match layer {
                Layer::Mpa => "MPA",
                Layer::Rdma => "DDP/RDMA",
                Layer::OneShot => "one-shot",
                Layer::Iscsi => "iSCSI",
                Layer::Tcp => "TCP",
            };
        }
        if !infos.is_empty() {
            // Keep TCP's own remarks ("[TCP Retransmission] ") in front.
            let prefix_len = self
                .summary
                .info
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(0);
            self.summary.info.truncate(prefix_len);
            let _ = write!(
                self.summary.info,
                "{} > {} ",
                tcp.source_port(),
                tcp.destination_port()
            );
            for (k, i) in infos.iter().enumerate() {
                if k > 0 {
                    self.summary.info.push_str("; ");
                }
                self.summary.info.push_str(i);
            }
        } else if payload_len > 0 && framed && want_info {
            self.summary
                .info
                .push_str(" [TCP segment of a reassembled PDU]");
        }
        self.summary.layer = layer;
    }

    /// Turns the frame's expert findings into `_ws.expert` nodes (filterable, printable).
    fn experts_to_nodes(&mut self) {
        let n = self.tree.experts.len();
        let worst = self.tree.experts.iter().map(|e| e.severity).max();
        self.summary.worst = worst;
        if self.tree.detail() == Detail::Off {
            return;
        }
        for i in 0..n {
            let e = self.tree.experts[i];
            let (start, len, src) = e
                .node
                .and_then(|k| self.tree.nodes.get(k as usize))
                .map(|node| (node.start as usize, node.len as usize, node.src))
                .unwrap_or((0, 0, FRAME_SOURCE));
            self.tree.set_depth(0);
            let top = self.tree.add(f::_WS_EXPERT, Value::None, src, start, len);
            let msg = self.tree.arena_str(e.text).to_string();
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
        }
    }

    /// Finishes the capture: what reassembly still held, and STags never closed.
    pub fn finish(&mut self) -> Vec<crate::analysis::Leak> {
        self.analysis.leaks()
    }
}

fn sep(s: &mut String) {
    if !s.is_empty() {
        s.push(':');
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
    if a.contains("crc") {
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

/// An FPDU shown in an earlier frame (it arrived out of order) that reassembly has now
/// reached: decoded into the never-built `scratch` tree for its summary, to be analysed in
/// stream order.
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

/// The Info column text of one FPDU.
fn fpdu_info(s: &FpduSummary, settings: Settings, disabled: build::Disabled) -> String {
    let mut out = String::new();
    let Some(op) = s.opcode else {
        return "FPDU [malformed DDP/RDMAP]".into();
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
            let _ = write!(out, "+Advertise S=0x{stag:08x}");
        }
        Some((Op::Close, stag)) => {
            let _ = write!(out, "+Close S=0x{stag:08x}");
        }
        None => {
            if let Some(stag) = s.oneshot_stag {
                let _ = write!(out, "+[both bits] S=0x{stag:08x}");
            }
        }
    }
    if s.tagged {
        let _ = write!(
            out,
            " STag=0x{:08x} TO=0x{:x} len={}",
            s.stag, s.to, s.payload_len
        );
    } else {
        if let Some((sink, size, source)) = s.read {
            let _ = write!(out, " sink=0x{sink:08x} size={size} source=0x{source:08x}");
        }
        let _ = write!(out, " MSN={}", s.msn);
        if s.mo != 0 {
            let _ = write!(out, " MO={}", s.mo);
        }
        if s.qn > 3 || (op.queue().is_some_and(|q| q != s.qn)) {
            let _ = write!(out, " QN={}", s.qn);
        }
    }
    if !s.last {
        out.push_str(" [more]");
    }
    if let Some((l, e, c)) = s.terminate {
        let _ = write!(out, " layer={l} etype={e} code=0x{c:02x}");
    }
    if let Some((opc, itt, edtl, flags, status)) = s.iscsi {
        let name = IscsiOpcode::from_raw(opc).name();
        let _ = write!(out, " [iSCSI {name}");
        if opc == 0x01 {
            let rw = match (flags & 0x40 != 0, flags & 0x20 != 0) {
                (true, true) => " RW",
                (true, false) => " R",
                (false, true) => " W",
                _ => "",
            };
            let _ = write!(out, "{rw} ITT=0x{itt:x} EDTL={edtl}]");
        } else if opc == 0x21 {
            let _ = write!(out, " ITT=0x{itt:x} status=0x{status:02x}]");
        } else {
            let _ = write!(out, " ITT=0x{itt:x}]");
        }
    }
    if s.crc == Some(crate::mpa::CrcStatus::Bad) {
        out.push_str(" [BAD CRC]");
    }
    let _ = settings;
    out
}

/// The Info column text of an iSCSI PDU over plain TCP.
fn iscsi_info(b: &Bhs<&[u8]>, (opc, itt, edtl, flags, status): (u8, u32, u32, u8, u8)) -> String {
    let name = IscsiOpcode::from_raw(opc).name();
    match opc {
        0x01 => {
            let rw = match (flags & 0x40 != 0, flags & 0x20 != 0) {
                (true, true) => " RW",
                (true, false) => " R",
                (false, true) => " W",
                _ => "",
            };
            format!("iSCSI {name}{rw} ITT=0x{itt:x} EDTL={edtl}")
        }
        0x21 => format!("iSCSI {name} ITT=0x{itt:x} status=0x{status:02x}"),
        0x31 => format!(
            "iSCSI {name} ITT=0x{itt:x} R2TSN={} offset={} len={}",
            b.r2tsn(),
            b.buffer_offset(),
            b.desired_len()
        ),
        0x05 | 0x25 => format!(
            "iSCSI {name} ITT=0x{itt:x} DataSN={} offset={} len={}",
            b.datasn(),
            b.buffer_offset(),
            b.data_segment_len()
        ),
        _ => format!("iSCSI {name} ITT=0x{itt:x}"),
    }
}
