//! Tree building: one function per layer, each adding Wireshark's fields (same names, same
//! values, the same nesting) plus the project's own, with the octets each one covers.

mod iwarp;
mod l2l4;
mod tcp;
mod ulp;

pub use iwarp::{FpduCtx, FpduSummary, fpdu, mpa_frame};
pub use l2l4::{FrameInfo, ethernet, frame, ipv4, ipv6, link_header, vlan};
pub use tcp::{PayloadItem, TcpInfo, info as tcp_info, raw_flags as tcp_flags, tcp, tcp_segments};
pub use ulp::{iscsi, iser};

use crate::field::{FieldId, Ftype};
use crate::tree::{NO_NODE, SourceId, Tree, Value};

/// Protocols switched off with `--disable-protocol` (tshark's option of the same name): their
/// octets are shown as the layer below shows them (`data`, or plain TCP payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Disabled {
    /// `iwarp_mpa` (and so everything above it).
    pub mpa: bool,
    /// `oneshot`: the STag field is not decoded; opcodes keep their numbers.
    pub oneshot: bool,
    /// `iser`.
    pub iser: bool,
    /// `iscsi` (and `scsi`).
    pub iscsi: bool,
}

impl Disabled {
    /// Parses a comma-separated list of protocol names.
    pub fn parse(list: &str) -> Result<Disabled, String> {
        let mut d = Disabled::default();
        for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match p {
                "iwarp_mpa" | "mpa" => d.mpa = true,
                "oneshot" => d.oneshot = true,
                "iser" => d.iser = true,
                "iscsi" | "scsi" => d.iscsi = true,
                _ => {
                    return Err(format!(
                        "--disable-protocol {p}: only iwarp_mpa, oneshot, iser and iscsi can be disabled"
                    ));
                }
            }
        }
        Ok(d)
    }
}

/// Adds fields of one data source at an offset.
pub struct B<'t> {
    /// The tree.
    pub t: &'t mut Tree,
    /// The source the octets are in.
    pub src: SourceId,
    /// Offset of the structure being dissected in that source.
    pub base: usize,
}

impl<'t> B<'t> {
    /// A builder for `src` at `base`.
    pub fn new(t: &'t mut Tree, src: SourceId, base: usize) -> Self {
        B { t, src, base }
    }

    /// The same source at another base.
    pub fn at(&mut self, base: usize) -> B<'_> {
        B {
            t: self.t,
            src: self.src,
            base,
        }
    }

    /// A field with a value.
    #[inline]
    pub fn v(&mut self, f: FieldId, v: Value, off: usize, len: usize) -> u32 {
        self.t.add(f, v, self.src, self.base + off, len)
    }

    /// An unsigned field.
    #[inline]
    pub fn u(&mut self, f: FieldId, v: u64, off: usize, len: usize) -> u32 {
        self.v(f, Value::Uint(v), off, len)
    }

    /// A field whose definition has a bitmask: `raw` is the whole containing integer; the value
    /// stored is masked and shifted (a boolean for `FT_BOOLEAN`).
    #[inline(always)]
    pub fn bits(&mut self, f: FieldId, raw: u64, off: usize, len: usize) -> u32 {
        if !self.t.builds(f) {
            return NO_NODE;
        }
        self.bits_node(f, raw, off, len)
    }

    #[inline(never)]
    fn bits_node(&mut self, f: FieldId, raw: u64, off: usize, len: usize) -> u32 {
        let v = masked(f, raw);
        self.v(f, v, off, len)
    }

    /// A field over its own octets (`FT_BYTES`).
    #[inline]
    pub fn bytes(&mut self, f: FieldId, off: usize, len: usize) -> u32 {
        self.v(f, Value::Bytes, off, len)
    }

    /// A label or protocol node; opens a subtree under it.
    #[inline]
    pub fn open(&mut self, f: FieldId, off: usize, len: usize) -> u32 {
        let i = self.v(f, Value::None, off, len);
        self.t.push();
        i
    }

    /// Closes the subtree opened last.
    #[inline]
    pub fn close(&mut self) {
        self.t.pop();
    }

    /// A string field.
    #[inline]
    pub fn s(&mut self, f: FieldId, s: &'static str, off: usize, len: usize) -> u32 {
        self.v(f, Value::Str(s), off, len)
    }

    /// A hidden field.
    #[inline]
    pub fn hidden(&mut self, f: FieldId, v: Value, off: usize, len: usize) -> u32 {
        self.t.add_hidden(f, v, self.src, self.base + off, len)
    }
}

/// `raw` masked and shifted by `f`'s bitmask, typed by `f`'s type.
#[inline]
pub fn masked(f: FieldId, raw: u64) -> Value {
    let d = f.def();
    let v = if d.mask == 0 {
        raw
    } else {
        (raw & d.mask) >> d.mask.trailing_zeros()
    };
    match d.ftype {
        Ftype::Boolean => Value::Bool(v != 0),
        Ftype::I32 | Ftype::I64 => Value::Int(v as i64),
        _ => Value::Uint(v),
    }
}
