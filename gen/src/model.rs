//! The resolved scenario: what a script says, checked and with every default filled in. The
//! script parser produces it, the engine consumes it; built-in scenarios are scripts too.

use std::net::IpAddr;
use std::time::Duration;

use oneshot_codec::oneshot::{Encoding, Placement};
use oneshot_codec::rdmap::Profile;

/// Where a part of the model came from: a line of the script (1-based), for comments in the
/// capture and for error messages.
pub type Line = u32;

/// A whole scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Seed for payload bytes, STags, ITTs and rate-based faults.
    pub seed: u64,
    /// Hosts, in declaration order.
    pub hosts: Vec<Host>,
    /// Connections, in declaration order.
    pub conns: Vec<Conn>,
    /// The one-shot wire format.
    pub oneshot: OneShotProfile,
    /// The commands, in order (a `repeat` block stays a block: it is expanded while running).
    pub steps: Vec<Step>,
    /// Faults applied at a rate across the run.
    pub rate_faults: Vec<RateFault>,
    /// Structure-aware mutation of DDP/RDMAP/MPA fields, with CRCs and checksums kept valid.
    pub mutate: Option<Rate>,
    /// Cut every captured frame to this many octets (the original length is kept in the record).
    pub snaplen: Option<u32>,
    /// Write frames to the capture only from this one on (1-based, counting every frame the run
    /// sends): a capture started mid-connection, without the TCP and MPA handshakes.
    pub capture_from: Option<u64>,
}

/// A probability in `0.0..=1.0`.
pub type Rate = f64;

/// How the one-shot qualifier is put on the wire (ONESHOT.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OneShotProfile {
    /// Opcodes 0x8/0xC or DDP bits 0x10/0x20.
    pub encoding: Encoding,
    /// STag in RsvdULP or appended after the DDP header.
    pub placement: Placement,
}

impl OneShotProfile {
    /// The decoder profile that reads what this writes (opcodes 0x8/0xC need `oneshot`).
    pub fn decoder_profile(&self) -> Profile {
        Profile::OneShot
    }
}

/// One host: its link and its stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    /// Name used in the script.
    pub name: String,
    /// Line of the `host` statement.
    pub line: Line,
    /// MAC address.
    pub mac: [u8; 6],
    /// IPv4 or IPv6 address.
    pub ip: IpAddr,
    /// 802.1Q VLAN ID (0-4094) when the link is tagged.
    pub vlan: Option<u16>,
    /// TCP maximum segment size this host announces and uses.
    pub mss: u16,
    /// Link rate in bits per second (serialization delay).
    pub rate_bps: u64,
    /// One-way latency to the peer.
    pub latency: Duration,
    /// TCP receive window announced (unscaled).
    pub window: u16,
}

/// Which direction(s) of a connection carry MPA markers. A direction carries markers when its
/// receiver asked for them (RFC 5044 M bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Markers {
    /// No markers.
    #[default]
    None,
    /// Only initiator → target (the target set M in its Reply).
    ToTarget,
    /// Only target → initiator (the initiator set M in its Request).
    ToInitiator,
    /// Both directions.
    Both,
}

/// RTR message type (RFC 6581) when peer-to-peer mode is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rtr {
    /// Zero-length Send.
    Send,
    /// Zero-length RDMA Write.
    Write,
    /// Zero-length RDMA Read Request.
    Read,
}

/// What runs on a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnKind {
    /// iWARP: MPA start-up, then FPDUs.
    Iwarp(MpaSettings),
    /// iSCSI directly over TCP (the FIG. 2 flow).
    Iscsi,
}

/// MPA start-up and framing for one iWARP connection.
#[derive(Debug, Clone, PartialEq)]
pub struct MpaSettings {
    /// MPA revision: 1 (RFC 5044) or 2 (RFC 6581, with IRD/ORD).
    pub revision: u8,
    /// RFC 6581 IRD (revision 2).
    pub ird: u16,
    /// RFC 6581 ORD (revision 2).
    pub ord: u16,
    /// RFC 6581 peer-to-peer mode with this RTR type.
    pub p2p: Option<Rtr>,
    /// Directions with markers.
    pub markers: Markers,
    /// CRC negotiated (both sides set C).
    pub crc: bool,
    /// ULP private data in the Request (the Reply echoes none).
    pub private_data: Vec<u8>,
    /// The Reply rejects the connection (R = 1): no FPDUs follow.
    pub reject: bool,
}

/// One TCP connection between two hosts.
#[derive(Debug, Clone, PartialEq)]
pub struct Conn {
    /// Name used in the script.
    pub name: String,
    /// Line of the `conn` statement.
    pub line: Line,
    /// Index of the initiator (host 1, owner of the data buffers) in [`Scenario::hosts`].
    pub initiator: usize,
    /// Initiator's TCP port.
    pub initiator_port: u16,
    /// Index of the target (host 2).
    pub target: usize,
    /// Target's TCP port.
    pub target_port: u16,
    /// iWARP or iSCSI/TCP.
    pub kind: ConnKind,
    /// Commands outstanding at once (queue depth).
    pub depth: u32,
}

/// Storage command flows (ONESHOT.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// FIG. 4: advertise + SCSI Command, RDMA Read or Write, close + SCSI Response.
    OneShot,
    /// FIG. 3: iSER Send, RDMA Read or Write, iSER Send; STags inside the iSER header.
    Conventional,
    /// FIG. 2: iSCSI over TCP with R2T / Data-Out / Data-In.
    IscsiTcp,
}

/// Which end of a connection sends a raw message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// The initiator (host 1).
    #[default]
    Initiator,
    /// The target (host 2).
    Target,
}

/// RFC 7306 atomic operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomicOp {
    /// Fetch and Add `add`.
    FetchAdd {
        /// The addend.
        add: u64,
    },
    /// Compare `compare` and Swap in `swap`.
    CmpSwap {
        /// Compare data.
        compare: u64,
        /// Swap data.
        swap: u64,
    },
}

/// One command of the script.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A storage write of `size` octets (host 1 → host 2).
    Write {
        /// Octets.
        size: u32,
        /// How.
        flow: Flow,
        /// The STag host 1 advertises (one-shot) or names in the iSER header (conventional);
        /// allocated when `None`. Fixing it lets a script reuse one STag on purpose.
        stag: Option<u32>,
    },
    /// A storage read of `size` octets (host 2 → host 1).
    Read {
        /// Octets.
        size: u32,
        /// How.
        flow: Flow,
        /// As for [`Action::Write`].
        stag: Option<u32>,
    },
    /// A raw Send.
    Send {
        /// Payload octets.
        size: u32,
        /// Sender.
        from: Side,
        /// Send with Solicited Event.
        solicited: bool,
        /// Send with Invalidate of this STag.
        invalidate: Option<u32>,
    },
    /// A raw RDMA Write into `stag` at `to`.
    RdmaWrite {
        /// Payload octets.
        size: u32,
        /// Sender.
        from: Side,
        /// Sink STag (random when `None`).
        stag: Option<u32>,
        /// Tagged offset.
        to: u64,
    },
    /// A raw RDMA Read: Read Request from `from`, Read Response from the peer.
    RdmaRead {
        /// Octets.
        size: u32,
        /// Requester.
        from: Side,
        /// Data sink STag (random when `None`).
        sink: Option<u32>,
        /// Data source STag (random when `None`).
        source: Option<u32>,
    },
    /// A Terminate (the sender sends nothing more on the connection).
    Terminate {
        /// Sender.
        from: Side,
        /// Layer (0 RDMAP, 1 DDP, 2 LLP).
        layer: u8,
        /// EType.
        etype: u8,
        /// Error code.
        code: u8,
    },
    /// RFC 7306 Immediate Data.
    Immediate {
        /// The 8 octets.
        data: u64,
        /// With Solicited Event.
        solicited: bool,
        /// Sender.
        from: Side,
    },
    /// RFC 7306 Atomic Request and its Response.
    Atomic {
        /// The operation.
        op: AtomicOp,
        /// Requester.
        from: Side,
        /// Remote STag (random when `None`).
        stag: Option<u32>,
        /// Remote tagged offset (8-octet aligned).
        to: u64,
    },
    /// Nothing on the wire for a while.
    Pause(Duration),
}

/// A fault injected into one command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Corrupt the CRC of one FPDU of the command.
    Crc,
    /// Lose one TCP segment of the command; it is retransmitted after a timeout.
    Loss,
    /// Swap two TCP segments of the command.
    Reorder,
    /// Send one TCP segment of the command twice.
    Duplicate,
    /// Split one FPDU across two TCP segments at this octet of the FPDU (1 = inside the 2-octet
    /// ULPDU_Length); random when `None`.
    Split(Option<u32>),
    /// Close with an STag other than the advertised one.
    CloseWrongStag,
    /// Close carrying an iSCSI response with another ITT.
    CloseWrongItt,
    /// Close an STag that was never advertised (no advertise is sent).
    CloseUnadvertised,
    /// Advertise, but never close.
    NeverClose,
    /// Set both one-shot bits (ddp-flags encoding; with opcodes, add the other bit).
    BothBits,
    /// Set a one-shot bit on an RDMA Write (or Read Response) of the command.
    BitOnWrite,
    /// Corrupt the MPA key of the connection's Request (only for the first command).
    BadMpaKey,
    /// ULPDU_Length announcing more octets than the segment holds.
    UlpduLengthBeyond,
    /// Cut the command's frames to this many captured octets.
    Snaplen(u32),
}

/// A fault applied at a rate to every eligible segment or command of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFault {
    /// Which fault.
    pub fault: Fault,
    /// Probability per eligible place.
    pub rate: Rate,
    /// Line of the `fault` statement.
    pub line: Line,
}

/// One step of the script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A command on a connection.
    Command {
        /// Line of the command.
        line: Line,
        /// Index in [`Scenario::conns`].
        conn: usize,
        /// What to do.
        action: Action,
        /// Faults for this command only.
        faults: Vec<Fault>,
    },
    /// `repeat N { … }`.
    Repeat {
        /// Line of the `repeat`.
        line: Line,
        /// How many times.
        count: u64,
        /// The body.
        body: Vec<Step>,
    },
}
