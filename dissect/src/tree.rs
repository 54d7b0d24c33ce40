//! One decoded field tree per frame: a flat, reusable list of nodes in tree order. Every printer
//! (summary, `-V`, `-x`, JSON, EK, fields) and the display filter read this one structure.
//!
//! Building a tree allocates nothing once the buffers have grown to their working size: the
//! caller clears and refills the same [`Tree`] for every frame.

use std::fmt::Write as _;

use crate::field::{FieldId, Ftype};

/// A node's value, already masked and shifted for bitfields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// No value (labels, subtrees, protocols).
    None,
    /// A boolean.
    Bool(bool),
    /// An unsigned integer.
    Uint(u64),
    /// A signed integer.
    Int(i64),
    /// The node's own octets (`FT_BYTES`).
    Bytes,
    /// A MAC address.
    Ether([u8; 6]),
    /// An IPv4 address.
    Ipv4([u8; 4]),
    /// An IPv6 address.
    Ipv6([u8; 16]),
    /// A fixed string.
    Str(&'static str),
    /// A string in the tree's text arena.
    Text(u32, u32),
    /// Nanoseconds since the Unix epoch.
    AbsTime(i64),
    /// A duration in nanoseconds.
    RelTime(i64),
    /// A floating-point number.
    Double(f64),
}

/// Where a node's octets are.
pub type SourceId = u8;

/// The frame itself.
pub const FRAME_SOURCE: SourceId = 0;

/// One node of the tree.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// The field.
    pub field: FieldId,
    /// Its value.
    pub value: Value,
    /// Data source of its octets.
    pub src: SourceId,
    /// First octet in the source.
    pub start: u32,
    /// Octets.
    pub len: u32,
    /// Nesting depth (0 = a protocol at the top).
    pub depth: u8,
    /// Hidden nodes are filterable and printed by `-T fields`, not shown in `-V`.
    pub hidden: bool,
    /// Custom `-V` text in the arena (else "Name: value").
    pub label: Option<(u32, u32)>,
}

/// An extra data source: octets that are not the frame's own (a reassembled FPDU, an FPDU
/// without markers).
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// Its name as tshark shows it (e.g. "Reassembled TCP", "FPDU without Markers").
    pub name: &'static str,
    /// The octets.
    pub bytes: Vec<u8>,
}

/// Severity of an expert item (Wireshark's groups in increasing order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Chat.
    Chat,
    /// Note.
    Note,
    /// Warning.
    Warning,
    /// Error.
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Chat => "chat",
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// An expert finding attached to the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expert {
    /// The expert field (e.g. `oneshot.expert.close_unadvertised`).
    pub field: FieldId,
    /// How bad.
    pub severity: Severity,
    /// The message in the arena.
    pub text: (u32, u32),
    /// The node it is about (index), if any.
    pub node: Option<u32>,
    /// Where its `_ws.expert` subtree goes in [`Tree::nodes`]: after what the node's subtree
    /// held when the finding was added (tshark hangs an expert item under its item at that
    /// moment); `u32::MAX` (no node) for the end of the tree, at the top level.
    pub at: u32,
}

/// How much of the tree to build: printers that need less let the dissector skip the cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Detail {
    /// No nodes at all (summary lines, `-q`): expert findings are still recorded.
    Off,
    /// Every node with its value, and the labels of protocol nodes (which `-T fields` prints
    /// as their value): filters, `-T fields`, JSON, EK, `-x`.
    Values,
    /// Everything, with the `-V` text of every node.
    #[default]
    Labels,
}

/// The index [`Tree::add`] returns when the tree is [`Detail::Off`].
pub const NO_NODE: u32 = u32::MAX;

/// The tree of one frame.
#[derive(Debug, Default)]
pub struct Tree {
    /// Nodes in tree order (pre-order).
    pub nodes: Vec<Node>,
    /// Extra data sources (index + 1 is the [`SourceId`]; 0 is the frame).
    pub sources: Vec<Source>,
    /// Expert findings.
    pub experts: Vec<Expert>,
    arena: String,
    used_sources: usize,
    depth: u8,
    detail: Detail,
    /// Set by [`Tree::keep_only`]: by field id, whether it is one of the fields asked for.
    kept: Option<Vec<bool>>,
    /// By field id, whether its nodes are built: `detail` and `kept` folded into one bit that
    /// every [`Tree::add`] tests (a constant field id makes it one load and one test).
    built: FieldBits,
    /// By field id, whether its nodes take a custom label ([`Tree::label_with`]).
    labelled: FieldBits,
    /// By protocol field id, whether a field of its registry rows (up to the next protocol's)
    /// is built: when not, a builder can add the protocol's node alone.
    within: FieldBits,
}

/// One bit per field id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FieldBits([u64; FIELD_WORDS]);

/// Words of a [`FieldBits`]: room for 1024 fields (the registry has fewer; a test checks).
const FIELD_WORDS: usize = 16;

impl Default for FieldBits {
    /// Every bit set: a new tree builds every node with its label.
    fn default() -> Self {
        FieldBits([u64::MAX; FIELD_WORDS])
    }
}

impl FieldBits {
    /// Whether `field`'s bit is set.
    #[inline(always)]
    fn get(&self, field: FieldId) -> bool {
        let i = usize::from(field.0);
        // The mask keeps the index in range whatever the id (no bounds check to panic).
        self.0[(i >> 6) & (FIELD_WORDS - 1)] >> (i & 63) & 1 != 0
    }

    /// Sets the bit of field id `i`.
    fn set(&mut self, i: usize) {
        self.0[(i >> 6) & (FIELD_WORDS - 1)] |= 1 << (i & 63);
    }

    /// The bits of the fields `pred` is true for.
    fn from_fn(mut pred: impl FnMut(usize, &crate::field::FieldDef) -> bool) -> Self {
        let mut b = FieldBits([0; FIELD_WORDS]);
        for (i, def) in crate::field::FIELDS.iter().enumerate() {
            if pred(i, def) {
                b.set(i);
            }
        }
        b
    }
}

impl Tree {
    /// Empties the tree for the next frame, keeping its buffers.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.experts.clear();
        self.arena.clear();
        self.used_sources = 0;
        self.depth = 0;
    }

    /// How much is built.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// Sets how much is built (from the next node on; call between frames).
    pub fn set_detail(&mut self, d: Detail) {
        self.detail = d;
        self.fold();
    }

    /// Recomputes the per-field bits from `detail` and `kept`.
    fn fold(&mut self) {
        let detail = self.detail;
        let kept = self.kept.as_deref();
        let kept = |i: usize| kept.is_none_or(|k| k.get(i).copied().unwrap_or(false));
        let fields = FieldBits::from_fn(|i, def| {
            detail != Detail::Off && kept(i) && def.ftype != Ftype::Protocol
        });
        let mut within = FieldBits([0; FIELD_WORDS]);
        let mut proto = None;
        for (i, def) in crate::field::FIELDS.iter().enumerate() {
            if def.ftype == Ftype::Protocol {
                proto = Some(i);
            } else if let Some(p) = proto.filter(|_| fields.get(FieldId(i as u16))) {
                within.set(p);
            }
        }
        // A protocol's node is built when asked for, when the whole tree is, or when a field
        // of its rows is (what it holds may be placed by it: the `oneshot` exchange items go
        // at the end of its subtree). `-T fields` without those is spared the node.
        let whole = self.kept.is_none();
        self.built = FieldBits::from_fn(|i, def| {
            detail != Detail::Off
                && (kept(i)
                    || def.ftype == Ftype::Protocol && (whole || within.get(FieldId(i as u16))))
        });
        self.labelled = FieldBits::from_fn(|i, def| match detail {
            Detail::Off => false,
            Detail::Values => def.ftype == Ftype::Protocol && kept(i),
            Detail::Labels => kept(i),
        });
        self.within = within;
    }

    /// Builds only the nodes of `fields`, and the nodes of the protocols one of whose fields
    /// (registry rows) is among them, from the next node on; a protocol's label only when it
    /// is one of `fields`.
    /// For printers that read a few fields by name and never the tree's shape: the order of
    /// the nodes kept is the order of the whole tree's, but expert items (placed after the
    /// subtree of the node they are about) may move when that node is not kept.
    pub fn keep_only(&mut self, fields: &[FieldId]) {
        let mut kept = vec![false; crate::field::FIELDS.len()];
        for f in fields {
            kept[usize::from(f.0)] = true;
        }
        self.kept = Some(kept);
        self.fold();
    }

    /// Whether [`Tree::add`] builds a node of `field` (callers can skip computing its value).
    #[inline(always)]
    pub fn builds(&self, field: FieldId) -> bool {
        self.built.get(field)
    }

    /// Whether a node of a field registered under protocol `proto` (a field of its rows in
    /// the registry, not a protocol) can be built: when not, a builder may add `proto`'s node
    /// (and the protocol nodes under it) and skip the rest, with the same tree as a result.
    #[inline(always)]
    pub fn builds_within(&self, proto: FieldId) -> bool {
        self.within.get(proto)
    }

    /// True when every node's `-V` text is wanted (builders skip costly labels otherwise).
    pub fn labels(&self) -> bool {
        self.detail == Detail::Labels
    }

    /// Adds a node at the current depth; returns its index ([`NO_NODE`] when the tree is
    /// [`Detail::Off`]).
    #[inline(always)]
    pub fn add(
        &mut self,
        field: FieldId,
        value: Value,
        src: SourceId,
        start: usize,
        len: usize,
    ) -> u32 {
        if !self.builds(field) {
            return NO_NODE;
        }
        self.add_node(field, value, src, start, len)
    }

    #[inline]
    fn add_node(
        &mut self,
        field: FieldId,
        value: Value,
        src: SourceId,
        start: usize,
        len: usize,
    ) -> u32 {
        self.nodes.push(Node {
            field,
            value,
            src,
            start: start as u32,
            len: len as u32,
            depth: self.depth,
            hidden: false,
            label: None,
        });
        (self.nodes.len() - 1) as u32
    }

    /// Adds a hidden node (filterable and in `-T fields`, not in `-V`).
    #[inline]
    pub fn add_hidden(
        &mut self,
        field: FieldId,
        value: Value,
        src: SourceId,
        start: usize,
        len: usize,
    ) -> u32 {
        let i = self.add(field, value, src, start, len);
        self.hide(i);
        i
    }

    /// Marks node `i` hidden.
    #[inline]
    pub fn hide(&mut self, i: u32) {
        if let Some(n) = self.nodes.get_mut(i as usize) {
            n.hidden = true;
        }
    }

    /// Opens a subtree under the last node added.
    #[inline]
    pub fn push(&mut self) {
        self.depth += 1;
    }

    /// Closes the innermost subtree.
    #[inline]
    pub fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Current depth.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// Sets the depth (closing every subtree deeper than `d`).
    pub fn set_depth(&mut self, d: u8) {
        self.depth = d;
    }

    /// Stores formatted text in the arena.
    pub fn text(&mut self, args: std::fmt::Arguments<'_>) -> (u32, u32) {
        self.append(|s| {
            let _ = s.write_fmt(args);
        })
    }

    /// Stores what `write` appends in the arena; returns where it is.
    #[inline]
    fn append(&mut self, write: impl FnOnce(&mut String)) -> (u32, u32) {
        let start = self.arena.len();
        write(&mut self.arena);
        (start as u32, (self.arena.len() - start) as u32)
    }

    /// A string value for a node of `field`, built from formatted text ([`Value::None`] when
    /// such a node is not built).
    #[inline]
    pub fn text_value(&mut self, field: FieldId, args: std::fmt::Arguments<'_>) -> Value {
        self.text_value_with(field, |s| {
            let _ = s.write_fmt(args);
        })
    }

    /// [`Tree::text_value`] with the text appended by `write` (see [`Tree::label_with`]).
    #[inline]
    pub fn text_value_with(&mut self, field: FieldId, write: impl FnOnce(&mut String)) -> Value {
        if !self.builds(field) {
            return Value::None;
        }
        let (start, len) = self.append(write);
        Value::Text(start, len)
    }

    /// Text stored in the arena.
    pub fn arena_str(&self, (start, len): (u32, u32)) -> &str {
        &self.arena[start as usize..(start + len) as usize]
    }

    /// Gives node `i` a custom `-V` label.
    /// Only with [`Detail::Labels`], or for protocol nodes with [`Detail::Values`] (their label
    /// is what `-T fields` prints).
    #[inline(always)]
    pub fn label(&mut self, i: u32, args: std::fmt::Arguments<'_>) {
        self.label_with(i, |s| {
            let _ = s.write_fmt(args);
        });
    }

    /// Gives node `i` a custom `-V` label that `write` appends to the arena, under the same
    /// conditions as [`Tree::label`]. The labels every frame has are written this way, with
    /// the [`crate::text`] helpers: `core::fmt` costs several times more.
    #[inline(always)]
    pub fn label_with(&mut self, i: u32, write: impl FnOnce(&mut String)) {
        // Most calls are for nodes not built (summary lines, `-q`, `-T fields`): decided here,
        // inlined, so that those cost a comparison rather than a call.
        if i == NO_NODE || !self.takes_label(i) {
            return;
        }
        let text = self.append(write);
        if let Some(n) = self.nodes.get_mut(i as usize) {
            n.label = Some(text);
        }
    }

    /// Whether node `i` exists and gets a label at this level of detail.
    #[inline(always)]
    fn takes_label(&self, i: u32) -> bool {
        self.nodes
            .get(i as usize)
            .is_some_and(|n| self.labelled.get(n.field))
    }

    /// Gives node `i` a `-V` label already in the arena (text shared with another node or
    /// value); an index that is not a node is ignored.
    #[inline]
    pub fn set_label(&mut self, i: u32, text: (u32, u32)) {
        if let Some(n) = self.nodes.get_mut(i as usize) {
            n.label = Some(text);
        }
    }

    /// A fresh extra data source named `name`; returns its id and its (empty) buffer.
    pub fn new_source(&mut self, name: &'static str) -> (SourceId, &mut Vec<u8>) {
        if self.used_sources == self.sources.len() {
            self.sources.push(Source::default());
        }
        let s = &mut self.sources[self.used_sources];
        self.used_sources += 1;
        s.name = name;
        s.bytes.clear();
        (self.used_sources as SourceId, &mut s.bytes)
    }

    /// The extra sources in use.
    pub fn extra_sources(&self) -> &[Source] {
        &self.sources[..self.used_sources]
    }

    /// The octets of source `src` (`frame` is source 0).
    pub fn source<'a>(&'a self, frame: &'a [u8], src: SourceId) -> &'a [u8] {
        if src == FRAME_SOURCE {
            frame
        } else {
            self.sources
                .get(usize::from(src) - 1)
                .map_or(&[][..], |s| &s.bytes[..])
        }
    }

    /// The octets a node covers (clipped to its source).
    pub fn node_bytes<'a>(&'a self, frame: &'a [u8], n: &Node) -> &'a [u8] {
        let s = self.source(frame, n.src);
        let start = (n.start as usize).min(s.len());
        let end = (n.start as usize + n.len as usize).min(s.len());
        &s[start..end]
    }

    /// Adds an expert finding.
    pub fn expert(
        &mut self,
        field: FieldId,
        severity: Severity,
        node: Option<u32>,
        args: std::fmt::Arguments<'_>,
    ) {
        let text = self.text(args);
        let at = match node {
            Some(k) if (k as usize) < self.nodes.len() => {
                let d = self.nodes[k as usize].depth;
                let mut end = k as usize + 1;
                while end < self.nodes.len() && self.nodes[end].depth > d {
                    end += 1;
                }
                end
            }
            _ => u32::MAX as usize,
        };
        self.experts.push(Expert {
            field,
            severity,
            text,
            node,
            at: at as u32,
        });
    }

    /// The nodes of `field`, in tree order.
    pub fn find(&self, field: FieldId) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.field == field)
    }

    /// The first node of `field`.
    pub fn first(&self, field: FieldId) -> Option<&Node> {
        self.nodes.iter().find(|n| n.field == field)
    }

    /// The children of node `i` (the nodes after it that are deeper, up to the next sibling).
    pub fn children(&self, i: usize) -> impl Iterator<Item = (usize, &Node)> {
        let depth = self.nodes[i].depth;
        self.nodes[i + 1..]
            .iter()
            .enumerate()
            .take_while(move |(_, n)| n.depth > depth)
            .map(move |(k, n)| (i + 1 + k, n))
    }

    /// True when the field's type has octets to show as bytes.
    pub fn is_bytes(field: FieldId) -> bool {
        field.def().ftype == Ftype::Bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::f;

    #[test]
    fn field_bits_have_room_for_every_field() {
        assert!(crate::field::FIELDS.len() <= FIELD_WORDS * 64);
    }

    #[test]
    fn keep_only_builds_the_fields_asked_for_and_protocols() {
        let mut t = Tree::default();
        t.set_detail(Detail::Values);
        t.keep_only(&[f::TCP_SEQ]);
        assert!(t.builds(f::TCP_SEQ));
        assert!(
            t.builds(f::TCP),
            "the protocol of a field asked for is built"
        );
        assert!(!t.builds(f::TCP_ACK));
        assert!(
            !t.builds(f::IP),
            "a protocol none of whose fields is asked for is not"
        );
        assert!(!t.builds(f::ONESHOT));
        let p = t.add(f::TCP, Value::None, FRAME_SOURCE, 0, 20);
        let s = t.add(f::TCP_SEQ, Value::Uint(1), FRAME_SOURCE, 4, 4);
        assert_eq!(
            t.add(f::TCP_ACK, Value::Uint(1), FRAME_SOURCE, 8, 4),
            NO_NODE
        );
        // -T fields prints a protocol's label, so it is kept when the protocol is asked for.
        t.label(p, format_args!("TCP"));
        t.label(s, format_args!("Sequence"));
        assert_eq!(t.nodes[0].label, None);
        assert_eq!(t.nodes[1].label, None);
        t.keep_only(&[f::TCP]);
        t.label(p, format_args!("TCP"));
        assert_eq!(t.nodes[0].label.map(|l| t.arena_str(l)), Some("TCP"));
        t.set_detail(Detail::Off);
        assert!(!t.builds(f::TCP));
        t.set_detail(Detail::Labels);
        t.label(s, format_args!("Sequence"));
        assert_eq!(t.nodes[1].label, None, "not asked for");
    }
}
