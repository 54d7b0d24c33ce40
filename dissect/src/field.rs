//! The field registry: every field the dissector can put in a tree, with Wireshark's name,
//! type, display base and bitmask, so that `-T fields`, `-Y` and `-V` speak tshark's language.
//!
//! The rows for fields tshark 4.0 knows are generated from `tshark -G fields` by
//! `dissect/tools/gen-registry.sh` into `registry.rs`; the project's own fields (`oneshot.*`,
//! `iser.*`, `iscsi.*` subsets, `iwarp_mpa.crc_status`, …) follow them there.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A field's type (Wireshark's `FT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ftype {
    /// A label or subtree with no value (`FT_NONE`).
    None,
    /// A protocol (`FT_PROTOCOL`): the top of a layer's subtree.
    Protocol,
    /// `FT_BOOLEAN` (with `bits` the width of the field the mask applies to).
    Boolean,
    /// `FT_UINT8`.
    U8,
    /// `FT_UINT16`.
    U16,
    /// `FT_UINT24`.
    U24,
    /// `FT_UINT32`.
    U32,
    /// `FT_UINT48`.
    U48,
    /// `FT_UINT64`.
    U64,
    /// `FT_INT16`.
    I16,
    /// `FT_INT32`.
    I32,
    /// `FT_INT64`.
    I64,
    /// `FT_FRAMENUM`.
    FrameNum,
    /// `FT_BYTES`.
    Bytes,
    /// `FT_ETHER`.
    Ether,
    /// `FT_IPv4`.
    Ipv4,
    /// `FT_IPv6`.
    Ipv6,
    /// `FT_STRING`.
    String,
    /// `FT_ABSOLUTE_TIME`.
    AbsTime,
    /// `FT_RELATIVE_TIME`.
    RelTime,
    /// `FT_DOUBLE`.
    Double,
}

impl Ftype {
    /// True for the integer types.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Ftype::U8
                | Ftype::U16
                | Ftype::U24
                | Ftype::U32
                | Ftype::U48
                | Ftype::U64
                | Ftype::I16
                | Ftype::I32
                | Ftype::I64
                | Ftype::FrameNum
                | Ftype::Boolean
        )
    }

    /// Hex digits tshark pads an unsigned field of this type to.
    pub fn hex_width(self) -> usize {
        match self {
            Ftype::U8 => 2,
            Ftype::U16 | Ftype::I16 => 4,
            Ftype::U24 => 6,
            Ftype::U32 | Ftype::I32 => 8,
            Ftype::U48 => 12,
            Ftype::U64 | Ftype::I64 => 16,
            _ => 0,
        }
    }

    /// The `FT_*` name, as `-G fields` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Ftype::None => "FT_NONE",
            Ftype::Protocol => "FT_PROTOCOL",
            Ftype::Boolean => "FT_BOOLEAN",
            Ftype::U8 => "FT_UINT8",
            Ftype::U16 => "FT_UINT16",
            Ftype::U24 => "FT_UINT24",
            Ftype::U32 => "FT_UINT32",
            Ftype::U48 => "FT_UINT48",
            Ftype::U64 => "FT_UINT64",
            Ftype::I16 => "FT_INT16",
            Ftype::I32 => "FT_INT32",
            Ftype::I64 => "FT_INT64",
            Ftype::FrameNum => "FT_FRAMENUM",
            Ftype::Bytes => "FT_BYTES",
            Ftype::Ether => "FT_ETHER",
            Ftype::Ipv4 => "FT_IPv4",
            Ftype::Ipv6 => "FT_IPv6",
            Ftype::String => "FT_STRING",
            Ftype::AbsTime => "FT_ABSOLUTE_TIME",
            Ftype::RelTime => "FT_RELATIVE_TIME",
            Ftype::Double => "FT_DOUBLE",
        }
    }
}

/// How an integer is displayed (Wireshark's `BASE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base {
    /// No base (non-integers).
    None,
    /// `BASE_DEC`.
    Dec,
    /// `BASE_HEX`.
    Hex,
    /// `BASE_DEC_HEX`.
    DecHex,
    /// `BASE_HEX_DEC`.
    HexDec,
    /// `BASE_OCT`.
    Oct,
    /// `BASE_PT_TCP`/`BASE_PT_UDP`: a port, printed in decimal.
    Port,
    /// `BASE_OUI`: a 24-bit OUI.
    Oui,
    /// `BASE_CUSTOM` or another special base: printed in decimal by `-T fields`.
    Custom,
    /// `BASE_NONE` on an integer with value names: decimal in `-T fields` and JSON, the name
    /// alone in `-V` (`[Checksum Status: Unverified]`).
    Plain,
}

/// One field.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// Filter name, e.g. `iwarp_ddp.msn`.
    pub abbrev: &'static str,
    /// Display name, e.g. `Message sequence number`.
    pub name: &'static str,
    /// Type.
    pub ftype: Ftype,
    /// Display base ([`Base::None`] for booleans and non-integers).
    pub base: Base,
    /// Boolean width in bits (Wireshark stores it in the base column).
    pub bool_bits: u8,
    /// Bitmask (0: none).
    pub mask: u64,
    /// Named values, when the field has them.
    pub values: &'static [(u64, &'static str)],
    /// A boolean's (true, false) strings, when not tshark's default ("True", "False").
    pub bool_strings: Option<(&'static str, &'static str)>,
    /// The protocol (or parent) this field belongs to, e.g. `iwarp_ddp_rdmap`.
    pub parent: &'static str,
    /// Description.
    pub blurb: &'static str,
    /// False for fields tshark 4.0 has too (their printed values must match tshark's).
    pub ours: bool,
    /// tshark shows the field as generated (not in the packet): `-V` brackets it, `[Name: v]`.
    pub generated: bool,
    /// Unit `-V` writes after the value (`ULPDU length: 94 bytes`), empty for none.
    pub unit: &'static str,
}

impl FieldDef {
    /// The name of `v` in this field's value table.
    pub fn value_name(&self, v: u64) -> Option<&'static str> {
        self.values.iter().find(|(k, _)| *k == v).map(|(_, n)| *n)
    }
}

/// A field's index in [`FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

impl FieldId {
    /// The definition.
    pub fn def(self) -> &'static FieldDef {
        &FIELDS[usize::from(self.0)]
    }
}

pub use crate::registry::FIELDS;

/// Looks a field up by its filter name.
pub fn lookup(abbrev: &str) -> Option<FieldId> {
    static INDEX: OnceLock<HashMap<&'static str, FieldId>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            FIELDS
                .iter()
                .enumerate()
                .map(|(i, f)| (f.abbrev, FieldId(i as u16)))
                .collect()
        })
        .get(abbrev)
        .copied()
}

/// Looks a field up; panics with the name when it is missing (for the dissector's own use, where
/// a missing field is a bug caught by the tests).
pub fn id(abbrev: &str) -> FieldId {
    lookup(abbrev).unwrap_or_else(|| panic!("field {abbrev} is not registered"))
}

/// The registered field names closest to `abbrev` (for "did you mean" suggestions).
pub fn suggest(abbrev: &str) -> Vec<&'static str> {
    let mut scored: Vec<(usize, &'static str)> = FIELDS
        .iter()
        .map(|f| (edit_distance(abbrev, f.abbrev), f.abbrev))
        .filter(|(d, _)| *d <= 3.max(abbrev.len() / 4))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::f;
    use std::collections::HashSet;

    /// Every filter name is registered once: `-e`/`-Y` resolve a name to exactly one field.
    #[test]
    fn abbrevs_are_unique() {
        let mut seen = HashSet::new();
        for def in FIELDS {
            assert!(seen.insert(def.abbrev), "{} registered twice", def.abbrev);
        }
    }

    #[test]
    fn constants_point_at_their_abbrev() {
        let cases = [
            (f::FRAME, "frame"),
            (f::FRAME_NUMBER, "frame.number"),
            (f::ETH_DST_LG, "eth.dst.lg"),
            (f::IP_SRC, "ip.src"),
            (f::TCP_STREAM, "tcp.stream"),
            (f::IWARP_MPA_ULPDULENGTH, "iwarp_mpa.ulpdulength"),
            (f::IWARP_MPA_CRC_STATUS, "iwarp_mpa.crc_status"),
            (f::IWARP_DDP_MSN, "iwarp_ddp.msn"),
            (f::IWARP_DDP_STAG, "iwarp_ddp.stag"),
            (f::IWARP_RDMA_OPCODE, "iwarp_rdma.opcode"),
            (f::IWARP_RDMA_HDRCT_D, "iwarp_rdma.hdrct_d"),
            (f::ISCSI_INITIATORTASKTAG, "iscsi.initiatortasktag"),
            (f::ISCSI_BUFFEROFFSET, "iscsi.bufferOffset"),
            (f::ISER_WRITE_STAG, "iser.write_stag"),
            (f::ONESHOT_STAG, "oneshot.stag"),
            (
                f::ONESHOT_EXCHANGE_CLOSE_FRAME,
                "oneshot.exchange.close_frame",
            ),
            (f::_WS_EXPERT_MESSAGE, "_ws.expert.message"),
        ];
        for (id, abbrev) in cases {
            assert_eq!(id.def().abbrev, abbrev);
            assert_eq!(lookup(abbrev), Some(id));
        }
    }

    #[test]
    fn lookup_finds_every_row() {
        for (i, def) in FIELDS.iter().enumerate() {
            assert_eq!(
                lookup(def.abbrev),
                Some(FieldId(i as u16)),
                "{}",
                def.abbrev
            );
        }
        assert_eq!(lookup("iwarp_ddp.nosuchfield"), None);
    }

    /// Every field belongs to a registered protocol, listed before it.
    #[test]
    fn fields_follow_their_protocol() {
        let mut protocols = HashSet::new();
        for def in FIELDS {
            if def.ftype == Ftype::Protocol {
                protocols.insert(def.abbrev);
            } else {
                assert!(
                    protocols.contains(def.parent),
                    "{}: {}",
                    def.abbrev,
                    def.parent
                );
            }
        }
        for p in [
            "iwarp_mpa",
            "iwarp_ddp_rdmap",
            "oneshot",
            "tcp",
            "iscsi",
            "iser",
        ] {
            assert!(protocols.contains(p), "{p}");
        }
    }

    /// tshark 4.0.17 has 94 iWARP fields; all of them are registered.
    #[test]
    fn all_of_tsharks_iwarp_fields() {
        let n = FIELDS
            .iter()
            .filter(|d| !d.ours && matches!(d.parent, "iwarp_mpa" | "iwarp_ddp_rdmap"))
            .count();
        assert_eq!(n, 94);
    }

    #[test]
    fn rdmap_opcode_is_tsharks_plus_the_one_shot_names() {
        let d = f::IWARP_RDMA_OPCODE.def();
        assert_eq!((d.ftype, d.base, d.mask), (Ftype::U8, Base::Hex, 0x0f));
        assert!(!d.ours);
        assert_eq!(d.value_name(0x0), Some("Write"));
        assert_eq!(d.value_name(0x5), Some("Send with SE"));
        assert_eq!(d.value_name(0x7), Some("Terminate"));
        assert_eq!(d.value_name(0x8), Some("Send with SE and Advertise"));
        assert_eq!(d.value_name(0xc), Some("Send with SE and Close"));
        assert_eq!(d.value_name(0x9), None);
    }

    /// A masked boolean knows the width its mask applies to; booleans have no integer base.
    #[test]
    fn booleans_have_their_width() {
        for d in FIELDS.iter().filter(|d| d.ftype == Ftype::Boolean) {
            assert_eq!(d.base, Base::None, "{}", d.abbrev);
            if d.mask != 0 {
                assert!(d.bool_bits > 0, "{}", d.abbrev);
                assert!(d.mask < 1 << d.bool_bits, "{}", d.abbrev);
            }
        }
        assert_eq!(f::IWARP_DDP_TAGGED_FLAG.def().bool_bits, 8);
        assert_eq!(f::TCP_FLAGS_SYN.def().bool_bits, 12);
        assert_eq!(f::ETH_DST_LG.def().bool_bits, 24);
        assert_eq!(
            f::ETH_DST_IG.def().bool_strings,
            Some((
                "Group address (multicast/broadcast)",
                "Individual address (unicast)"
            ))
        );
        assert_eq!(f::IWARP_MPA_PEER_TO_PEER.def().bool_bits, 16);
    }

    /// Only the project's own rows are marked ours: tshark's rows keep tshark's output.
    #[test]
    fn ours_marks_only_our_rows() {
        for abbrev in [
            "oneshot",
            "oneshot.stag",
            "oneshot.expert.leak",
            "iwarp_mpa.crc_status",
        ] {
            assert!(id(abbrev).def().ours, "{abbrev}");
        }
        for abbrev in [
            "frame.number",
            "iwarp_rdma.opcode",
            "iwarp_rdma.inval_stag",
            "iser.write_stag",
            "_ws.expert",
        ] {
            assert!(!id(abbrev).def().ours, "{abbrev}");
        }
        let stag = f::ONESHOT_STAG.def();
        assert_eq!((stag.ftype, stag.base), (Ftype::U32, Base::Hex));
        assert_eq!(f::ONESHOT_RAW_BITS.def().mask, 0x30);
        // The one-shot protocol and our expert items (tshark 4.0 has no `*.expert.*` iWARP
        // fields) are all ours.
        for d in FIELDS {
            let expert = d.abbrev.contains(".expert.") && !d.abbrev.starts_with("_ws.");
            if d.abbrev.starts_with("oneshot") || expert {
                assert!(d.ours, "{}", d.abbrev);
            }
        }
    }

    #[test]
    fn tshark_bases_and_values() {
        assert_eq!(f::TCP_SRCPORT.def().base, Base::Port);
        assert_eq!(f::IP_ID.def().base, Base::HexDec);
        assert_eq!(f::ISCSI_CMDSN.def().base, Base::DecHex);
        // BASE_NONE integers with value names print in decimal (the name alone in -V).
        assert_eq!(f::TCP_CHECKSUM_STATUS.def().base, Base::Plain);
        assert_eq!(
            f::TCP_CHECKSUM_STATUS.def().value_name(2),
            Some("Unverified")
        );
        assert_eq!(f::ETH_TYPE.def().value_name(0x0800), Some("IPv4"));
        assert_eq!(f::FRAME_ENCAP_TYPE.def().ftype, Ftype::I16);
        assert_eq!(f::IWARP_RDMA_INVAL_STAG.def().base, Base::Dec);
    }

    #[test]
    fn suggestions_and_edit_distance() {
        assert_eq!(edit_distance("iwarp_ddp.msn", "iwarp_ddp.mo"), 2);
        assert!(suggest("iwarp_ddp.msm").contains(&"iwarp_ddp.msn"));
    }
}
