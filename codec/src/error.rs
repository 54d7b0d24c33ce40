//! The codec's one error type: what went wrong, in which layer, at which byte.
//!
//! Every decode function returns [`Error`] on failure. It is `Copy`, allocation free, and its
//! `Display` reads like `DDP: truncated header: need 18 bytes, have 10 (at byte 54)`.
//! A view reports offsets relative to its own buffer; whoever decoded the outer layers moves the
//! offset into frame coordinates with [`Error::offset_by`].
//!
//! CRC and checksum mismatches are not errors: they are findings, exposed by the `verify_*`
//! methods of the views.

use core::fmt;

/// The protocol layer an [`Error`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layer {
    /// Linux cooked capture (SLL) header.
    LinuxSll,
    /// Ethernet II header.
    Ethernet,
    /// IEEE 802.1Q / 802.1ad VLAN tag.
    Vlan,
    /// IPv4 header and options.
    Ipv4,
    /// IPv6 header and extension headers.
    Ipv6,
    /// TCP header and options.
    Tcp,
    /// Another transport (UDP, ICMP, IGMP, ARP) that etherparse decodes on the way.
    Transport,
    /// MPA Request or Reply frame (RFC 5044 §7.1, RFC 6581).
    MpaFrame,
    /// MPA FPDU framing: ULPDU_Length, pad, CRC (RFC 5044 §4).
    Mpa,
    /// MPA marker (RFC 5044 §5).
    Marker,
    /// DDP segment header (RFC 5041).
    Ddp,
    /// RDMAP header (RFC 5040, RFC 7306).
    Rdmap,
    /// The one-shot STag field (ONESHOT.md §2).
    OneShot,
    /// iSER header (RFC 7145).
    Iser,
    /// iSCSI Basic Header Segment (RFC 7143).
    Iscsi,
}

impl Layer {
    /// The layer's short name as shown in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Layer::LinuxSll => "Linux SLL",
            Layer::Ethernet => "Ethernet",
            Layer::Vlan => "VLAN",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
            Layer::Tcp => "TCP",
            Layer::Transport => "transport",
            Layer::MpaFrame => "MPA frame",
            Layer::Mpa => "MPA",
            Layer::Marker => "MPA marker",
            Layer::Ddp => "DDP",
            Layer::Rdmap => "RDMAP",
            Layer::OneShot => "one-shot",
            Layer::Iser => "iSER",
            Layer::Iscsi => "iSCSI",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The buffer ends before the structure named by `what` does.
    Truncated {
        /// The structure that is cut short, e.g. `"header"`, `"FPDU"`, `"private data"`.
        what: &'static str,
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// A length (or length-like) field holds a value that cannot be right.
    BadLength {
        /// The field's RFC name, e.g. `"ULPDU_Length"`.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// The bytes are well-formed but describe something this codec does not decode.
    Unsupported {
        /// What it is, e.g. `"IPv4 version field is not 4"`.
        what: &'static str,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::Truncated { what, needed, got } => {
                write!(f, "truncated {what}: need {needed} bytes, have {got}")
            }
            ErrorKind::BadLength { field, value } => write!(f, "bad {field} {value}"),
            ErrorKind::Unsupported { what } => write!(f, "unsupported: {what}"),
        }
    }
}

/// A decode or encode failure: its kind, its layer, and the byte offset where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The layer being decoded or encoded.
    pub layer: Layer,
    /// Byte offset of the failing structure, relative to the buffer the caller passed in (for
    /// the frame decoder: the start of the frame).
    pub at: usize,
}

impl Error {
    /// A [`ErrorKind::Truncated`] error.
    pub const fn truncated(layer: Layer, what: &'static str, needed: usize, got: usize) -> Self {
        Error {
            kind: ErrorKind::Truncated { what, needed, got },
            layer,
            at: 0,
        }
    }

    /// A [`ErrorKind::BadLength`] error.
    pub const fn bad_length(layer: Layer, field: &'static str, value: u64) -> Self {
        Error {
            kind: ErrorKind::BadLength { field, value },
            layer,
            at: 0,
        }
    }

    /// An [`ErrorKind::Unsupported`] error.
    pub const fn unsupported(layer: Layer, what: &'static str) -> Self {
        Error {
            kind: ErrorKind::Unsupported { what },
            layer,
            at: 0,
        }
    }

    /// The same error with `at` set to `at`.
    pub const fn at(mut self, at: usize) -> Self {
        self.at = at;
        self
    }

    /// The same error with `offset` added to `at` (saturating): moves an error found inside an
    /// inner buffer into the coordinates of the outer one.
    pub const fn offset_by(mut self, offset: usize) -> Self {
        self.at = self.at.saturating_add(offset);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (at byte {})", self.layer, self.kind, self.at)
    }
}

impl core::error::Error for Error {}

/// The codec's result type.
pub type Result<T> = core::result::Result<T, Error>;

/// Fails with a truncation error unless `buf` holds at least `needed` bytes.
#[inline]
pub(crate) fn need(buf: &[u8], needed: usize, layer: Layer, what: &'static str) -> Result<()> {
    if buf.len() < needed {
        Err(Error::truncated(layer, what, needed, buf.len()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_layer_kind_and_offset() {
        let e = Error::truncated(Layer::Ddp, "header", 18, 10).at(54);
        assert_eq!(
            e.to_string(),
            "DDP: truncated header: need 18 bytes, have 10 (at byte 54)"
        );
        let e = Error::bad_length(Layer::Mpa, "ULPDU_Length", 70).offset_by(14);
        assert_eq!(e.to_string(), "MPA: bad ULPDU_Length 70 (at byte 14)");
        let e = Error::unsupported(Layer::Ipv4, "IPv4 version field is not 4");
        assert_eq!(
            e.to_string(),
            "IPv4: unsupported: IPv4 version field is not 4 (at byte 0)"
        );
    }

    #[test]
    fn offset_by_saturates() {
        let e = Error::truncated(Layer::Tcp, "header", 20, 3).at(usize::MAX - 1);
        assert_eq!(e.offset_by(10).at, usize::MAX);
    }

    #[test]
    fn need_reports_needed_and_got() {
        assert!(need(&[0; 4], 4, Layer::Marker, "marker").is_ok());
        let e = need(&[0; 3], 4, Layer::Marker, "marker").unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                what: "marker",
                needed: 4,
                got: 3
            }
        );
    }
}
