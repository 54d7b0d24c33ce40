//! Filters over hand-built trees, every error message with its caret, limits, and a fuzz loop.

use super::*;
use crate::field::id;
use crate::tree::{FRAME_SOURCE, Tree, Value};

/// A frame's octets and its tree.
struct Frame {
    bytes: Vec<u8>,
    tree: Tree,
}

fn add(t: &mut Tree, name: &str, value: Value, start: usize, len: usize) {
    t.add(id(name), value, FRAME_SOURCE, start, len);
}

const MAC1: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC2: [u8; 6] = [2, 0, 0, 0, 0, 2];
const MAC3: [u8; 6] = [2, 0, 0, 0, 0, 3];

/// A: IPv4, one FPDU: Send with SE and Advertise (opcode 8), `oneshot.op` a static string.
fn frame_a() -> Frame {
    let mut bytes = vec![0u8; 80];
    bytes[54..64].copy_from_slice(b"GET /stag\n");
    let mut t = Tree::default();
    add(&mut t, "frame", Value::None, 0, 80);
    add(&mut t, "frame.len", Value::Uint(80), 0, 0);
    add(
        &mut t,
        "frame.time_relative",
        Value::RelTime(750_000_000),
        0,
        0,
    );
    add(
        &mut t,
        "frame.time",
        Value::AbsTime(1_700_000_000_250_000_000),
        0,
        0,
    );
    add(&mut t, "eth", Value::None, 0, 14);
    add(&mut t, "eth.dst", Value::Ether(MAC2), 0, 6);
    add(&mut t, "eth.addr", Value::Ether(MAC2), 0, 6);
    add(&mut t, "eth.src", Value::Ether(MAC1), 6, 6);
    add(&mut t, "eth.addr", Value::Ether(MAC1), 6, 6);
    add(&mut t, "ip", Value::None, 14, 20);
    add(&mut t, "ip.ttl", Value::Uint(64), 22, 1);
    add(&mut t, "ip.proto", Value::Uint(6), 23, 1);
    add(&mut t, "ip.src", Value::Ipv4([10, 0, 0, 1]), 26, 4);
    add(&mut t, "ip.addr", Value::Ipv4([10, 0, 0, 1]), 26, 4);
    add(&mut t, "ip.dst", Value::Ipv4([10, 0, 1, 2]), 30, 4);
    add(&mut t, "ip.addr", Value::Ipv4([10, 0, 1, 2]), 30, 4);
    add(&mut t, "tcp", Value::None, 34, 20);
    add(&mut t, "tcp.srcport", Value::Uint(49152), 34, 2);
    add(&mut t, "tcp.port", Value::Uint(49152), 34, 2);
    add(&mut t, "tcp.dstport", Value::Uint(4791), 36, 2);
    add(&mut t, "tcp.port", Value::Uint(4791), 36, 2);
    add(&mut t, "tcp.flags.syn", Value::Bool(false), 47, 1);
    add(&mut t, "tcp.payload", Value::Bytes, 54, 10);
    add(&mut t, "iwarp_mpa", Value::None, 54, 26);
    add(&mut t, "iwarp_rdma.opcode", Value::Uint(8), 57, 1);
    add(&mut t, "oneshot.op", Value::Str("advertise"), 57, 1);
    add(&mut t, "oneshot.stag", Value::Uint(0x1234), 58, 4);
    Frame { bytes, tree: t }
}

/// B: IPv6, two FPDUs (Send, then Write), a retransmission, `oneshot.op` in the text arena.
fn frame_b() -> Frame {
    let mut bytes = vec![0u8; 120];
    bytes[..4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let v6 = |last: u8| {
        let mut a = [0u8; 16];
        a[0] = 0xfe;
        a[1] = 0x80;
        a[15] = last;
        a
    };
    let mut t = Tree::default();
    add(&mut t, "frame", Value::None, 0, 120);
    add(&mut t, "frame.len", Value::Uint(120), 0, 0);
    add(
        &mut t,
        "frame.time_relative",
        Value::RelTime(250_000_000),
        0,
        0,
    );
    add(&mut t, "eth", Value::None, 0, 14);
    add(&mut t, "eth.dst", Value::Ether(MAC3), 0, 6);
    add(&mut t, "eth.addr", Value::Ether(MAC3), 0, 6);
    add(&mut t, "eth.src", Value::Ether(MAC2), 6, 6);
    add(&mut t, "eth.addr", Value::Ether(MAC2), 6, 6);
    add(&mut t, "ipv6", Value::None, 14, 40);
    add(&mut t, "ipv6.src", Value::Ipv6(v6(1)), 22, 16);
    add(&mut t, "ipv6.addr", Value::Ipv6(v6(1)), 22, 16);
    add(&mut t, "ipv6.dst", Value::Ipv6(v6(2)), 38, 16);
    add(&mut t, "ipv6.addr", Value::Ipv6(v6(2)), 38, 16);
    add(&mut t, "tcp", Value::None, 54, 20);
    add(&mut t, "tcp.srcport", Value::Uint(4000), 54, 2);
    add(&mut t, "tcp.port", Value::Uint(4000), 54, 2);
    add(&mut t, "tcp.dstport", Value::Uint(4000), 56, 2);
    add(&mut t, "tcp.port", Value::Uint(4000), 56, 2);
    add(&mut t, "tcp.flags.syn", Value::Bool(true), 67, 1);
    add(&mut t, "tcp.analysis.retransmission", Value::None, 0, 0);
    add(&mut t, "iwarp_mpa", Value::None, 74, 46);
    add(&mut t, "iwarp_rdma.opcode", Value::Uint(3), 77, 1);
    let close = t.text_value(id("oneshot.op"), format_args!("{}", "close"));
    add(&mut t, "oneshot.op", close, 77, 1);
    add(&mut t, "oneshot.stag", Value::Uint(0x1234), 78, 4);
    add(&mut t, "iwarp_rdma.opcode", Value::Uint(0), 97, 1);
    add(&mut t, "oneshot.stag", Value::Uint(0x2000), 98, 4);
    add(&mut t, "data.data", Value::Bytes, 0, 4);
    Frame { bytes, tree: t }
}

/// C: a bare frame.
fn frame_c() -> Frame {
    let mut t = Tree::default();
    add(&mut t, "frame", Value::None, 0, 60);
    add(&mut t, "frame.len", Value::Uint(60), 0, 0);
    Frame {
        bytes: vec![0; 60],
        tree: t,
    }
}

fn frames() -> [Frame; 3] {
    [frame_a(), frame_b(), frame_c()]
}

fn check(frames: &[Frame; 3], text: &str, expected: [bool; 3]) {
    let f = Filter::compile(text).unwrap_or_else(|e| panic!("{text:?} does not compile:\n{e}"));
    let got = [0, 1, 2].map(|i| f.matches(&frames[i].tree, &frames[i].bytes));
    assert_eq!(got, expected, "{text:?} on frames [A, B, C]");
}

const T: bool = true;
const F: bool = false;

#[test]
fn table() {
    let fr = frames();
    let cases: &[(&str, [bool; 3])] = &[
        // existence
        ("frame", [T, T, T]),
        ("iwarp_mpa", [T, T, F]),
        ("tcp.analysis.retransmission", [F, T, F]),
        ("!tcp.analysis.retransmission", [T, F, T]),
        ("oneshot.stag", [T, T, F]),
        // integers, every spelling of 8
        ("iwarp_rdma.opcode == 8", [T, F, F]),
        ("iwarp_rdma.opcode == 0x8", [T, F, F]),
        ("iwarp_rdma.opcode == 0X08", [T, F, F]),
        ("iwarp_rdma.opcode == 0o10", [T, F, F]),
        ("iwarp_rdma.opcode == 0b1000", [T, F, F]),
        ("iwarp_rdma.opcode eq 8", [T, F, F]),
        ("iwarp_rdma.opcode EQ 8", [T, F, F]),
        ("iwarp_rdma.opcode any_eq 8", [T, F, F]),
        // value names and the opcode aliases
        ("iwarp_rdma.opcode == send_se_advertise", [T, F, F]),
        ("iwarp_rdma.opcode == immediate_data", [T, F, F]),
        ("iwarp_rdma.opcode == send_with_se_and_advertise", [T, F, F]),
        ("iwarp_rdma.opcode == Send_With_SE_And_Advertise", [T, F, F]),
        (
            "iwarp_rdma.opcode == \"Send with SE and Advertise\"",
            [T, F, F],
        ),
        ("iwarp_rdma.opcode == send", [F, T, F]),
        ("iwarp_rdma.opcode == write", [F, T, F]),
        ("iwarp_rdma.opcode == send_se_close", [F, F, F]),
        ("iwarp_rdma.opcode == send_with_se", [F, F, F]),
        (
            "iwarp_rdma.opcode in {send_se send_se_invalidate terminate}",
            [F, F, F],
        ),
        (
            "iwarp_rdma.opcode in {read_request read_response write}",
            [F, T, F],
        ),
        ("ip.proto == tcp", [T, F, F]),
        ("ip.proto == TCP", [T, F, F]),
        // == != ~= === with repeated fields (B has opcodes 3 and 0, stags 0x1234 and 0x2000)
        ("iwarp_rdma.opcode != send", [T, F, F]),
        ("iwarp_rdma.opcode ne send", [T, F, F]),
        ("iwarp_rdma.opcode all_ne send", [T, F, F]),
        ("iwarp_rdma.opcode ~= send", [T, T, F]),
        ("iwarp_rdma.opcode !== send", [T, T, F]),
        ("iwarp_rdma.opcode any_ne send", [T, T, F]),
        ("iwarp_rdma.opcode === send", [F, F, F]),
        ("iwarp_rdma.opcode === 8", [T, F, F]),
        ("iwarp_rdma.opcode all_eq 8", [T, F, F]),
        ("!(iwarp_rdma.opcode == send)", [T, F, T]),
        ("oneshot.stag == 0x1234", [T, T, F]),
        ("oneshot.stag != 0x1234", [F, F, F]),
        ("oneshot.stag ~= 0x1234", [F, T, F]),
        ("oneshot.stag === 0x1234", [T, F, F]),
        // ordering
        ("iwarp_rdma.opcode > 2", [T, T, F]),
        ("iwarp_rdma.opcode gt 2", [T, T, F]),
        ("iwarp_rdma.opcode < 1", [F, T, F]),
        ("iwarp_rdma.opcode lt 1", [F, T, F]),
        (
            "iwarp_rdma.opcode <= 3 && iwarp_rdma.opcode >= 3",
            [F, T, F],
        ),
        (
            "iwarp_rdma.opcode le 0 and iwarp_rdma.opcode ge 8",
            [F, F, F],
        ),
        ("frame.len > 100", [F, T, F]),
        ("frame.len >= 80 && frame.len <= 80", [T, F, F]),
        // sets and ranges
        ("iwarp_rdma.opcode in {send write}", [F, T, F]),
        ("iwarp_rdma.opcode in {send, write}", [F, T, F]),
        ("iwarp_rdma.opcode in {1..5}", [F, T, F]),
        ("iwarp_rdma.opcode in {4 .. 8}", [T, F, F]),
        ("iwarp_rdma.opcode in {0x8,0xc}", [T, F, F]),
        ("iwarp_rdma.opcode in {9..12 0..0}", [F, T, F]),
        ("frame.len in {60 80}", [T, F, T]),
        ("tcp.port in {4000 4791}", [T, T, F]),
        ("tcp.port in {1..1023}", [F, F, F]),
        ("oneshot.op in {advertise \"close\"}", [T, T, F]),
        ("ip.src in {192.168.0.0/16 10.0.0.0/8}", [T, F, F]),
        ("ip.src in {10.0.0.0..10.0.0.9}", [T, F, F]),
        // IPv4, CIDR
        ("ip.src == 10.0.0.1", [T, F, F]),
        ("ip.src == 10.0.0.0/24", [T, F, F]),
        ("ip.src == 10.0.0.77/24", [T, F, F]),
        ("ip.src == 10.0.1.0/24", [F, F, F]),
        ("ip.addr == 10.0.1.0/24", [T, F, F]),
        ("ip.src == 10.0.0.1/32", [T, F, F]),
        ("ip.src == 0.0.0.0/0", [T, F, F]),
        ("ip.addr != 10.0.0.1", [F, F, F]),
        ("ip.addr ~= 10.0.0.1", [T, F, F]),
        ("ip.addr != 10.1.0.0/16", [T, F, F]),
        ("ip.dst > 10.0.0.255", [T, F, F]),
        ("ip.src == ip.dst", [F, F, F]),
        // IPv6
        ("ipv6.src == fe80::1", [F, T, F]),
        ("ipv6.src == FE80:0:0:0:0:0:0:1", [F, T, F]),
        ("ipv6.addr == fe80::/64", [F, T, F]),
        ("ipv6.src == fe80::2", [F, F, F]),
        ("ipv6.addr == fe80::2/128", [F, T, F]),
        ("ipv6.src < ipv6.dst", [F, T, F]),
        // MAC
        ("eth.src == 02:00:00:00:00:01", [T, F, F]),
        ("eth.src == 02-00-00-00-00-01", [T, F, F]),
        ("eth.src == 2:0:0:0:0:1", [T, F, F]),
        ("eth.addr == 02:00:00:00:00:02", [T, T, F]),
        ("eth.addr != 02:00:00:00:00:02", [F, F, F]),
        ("eth.src contains 00:01", [T, F, F]),
        // field against field
        ("tcp.srcport == tcp.dstport", [F, T, F]),
        ("tcp.srcport != tcp.dstport", [T, F, F]),
        ("tcp.srcport > tcp.dstport", [T, F, F]),
        ("tcp.port == tcp.srcport", [T, T, F]),
        ("tcp.port != tcp.srcport", [F, F, F]),
        ("tcp.port ~= tcp.srcport", [T, F, F]),
        ("iwarp_rdma.opcode == ip.proto", [F, F, F]),
        ("eth.src == eth.dst", [F, F, F]),
        // booleans
        ("tcp.flags.syn", [T, T, F]),
        ("tcp.flags.syn == 1", [F, T, F]),
        ("tcp.flags.syn == true", [F, T, F]),
        ("tcp.flags.syn == True", [F, T, F]),
        ("tcp.flags.syn == 0", [T, F, F]),
        ("tcp.flags.syn == false", [T, F, F]),
        ("tcp.flags.syn != 1", [T, F, F]),
        // byte strings, strings, contains
        ("tcp.payload contains \"GET\"", [T, F, F]),
        ("tcp.payload contains 47:45:54", [T, F, F]),
        ("tcp.payload contains 47-45-54", [T, F, F]),
        ("tcp.payload contains 474554", [T, F, F]),
        ("tcp.payload contains 2f", [T, F, F]),
        ("tcp.payload contains \"\\x47ET /\"", [T, F, F]),
        ("tcp.payload contains \"stag\\n\"", [T, F, F]),
        ("tcp.payload contains \"PUT\"", [F, F, F]),
        ("tcp.payload == 47:45:54:20:2f:73:74:61:67:0a", [T, F, F]),
        ("tcp.payload == \"GET /stag\\n\"", [T, F, F]),
        ("tcp.payload > 47:45", [T, F, F]),
        ("tcp contains \"GET\"", [F, F, F]),
        ("frame contains \"GET\"", [T, F, F]),
        ("iwarp_mpa contains \"GET\"", [T, F, F]),
        ("frame contains de:ad:be:ef", [F, T, F]),
        ("data.data == de:ad:be:ef", [F, T, F]),
        ("data.data == deadbeef", [F, T, F]),
        ("data.data contains ad:be", [F, T, F]),
        ("oneshot.op == advertise", [T, F, F]),
        ("oneshot.op == \"close\"", [F, T, F]),
        ("oneshot.op eq close", [F, T, F]),
        ("oneshot.op == Close", [F, F, F]),
        ("oneshot.op contains los", [F, T, F]),
        ("oneshot.op contains \"adv\"", [T, F, F]),
        ("oneshot.op > \"b\"", [F, T, F]),
        ("oneshot.op != advertise", [F, T, F]),
        // times
        ("frame.time_relative > 0.5", [T, F, F]),
        ("frame.time_relative < 0.5", [F, T, F]),
        ("frame.time_relative == 0.75", [T, F, F]),
        ("frame.time_relative == .25", [F, T, F]),
        ("frame.time_relative >= 0.250000000", [T, T, F]),
        ("frame.time_relative > 0.2500000009", [T, F, F]),
        ("frame.time_relative > -1", [T, T, F]),
        ("frame.time > 1700000000", [T, F, F]),
        ("frame.time == 1700000000.25", [T, F, F]),
        // precedence: not > and > or
        (
            "iwarp_rdma.opcode == 8 || iwarp_rdma.opcode == 3 && tcp.analysis.retransmission",
            [T, T, F],
        ),
        (
            "(iwarp_rdma.opcode == 8 || iwarp_rdma.opcode == 3) && tcp.analysis.retransmission",
            [F, T, F],
        ),
        (
            "tcp.analysis.retransmission && iwarp_rdma.opcode == 3 || iwarp_rdma.opcode == 8",
            [T, T, F],
        ),
        ("!iwarp_mpa || frame.len == 80", [T, F, T]),
        ("!(iwarp_mpa || frame.len == 80)", [F, F, T]),
        ("not iwarp_mpa and frame", [F, F, T]),
        (
            "frame and not iwarp_mpa or tcp.analysis.retransmission",
            [F, T, T],
        ),
        (
            "frame && !iwarp_mpa || tcp.analysis.retransmission",
            [F, T, T],
        ),
        ("!!iwarp_mpa", [T, T, F]),
        ("not not not iwarp_mpa", [F, F, T]),
        ("!ip.src == 10.0.0.1", [F, T, T]),
        ("frame AND iwarp_mpa Or tcp", [T, T, F]),
        // whitespace and newlines
        ("\n\tiwarp_rdma.opcode\n==\n\t8\r\n", [T, F, F]),
        ("iwarp_rdma.opcode==8&&ip.src==10.0.0.1", [T, F, F]),
        ("(frame)&&!(tcp.analysis.retransmission)", [T, F, T]),
        ("  ( ( iwarp_mpa ) )  ", [T, T, F]),
        ("tcp.port in{4000}", [F, T, F]),
        ("oneshot.op==\"close\"||oneshot.op==advertise", [T, T, F]),
    ];
    for (text, expected) in cases {
        check(&fr, text, *expected);
    }
}

#[test]
fn compiles() {
    for text in [
        "frame.encap_type == -1",
        "frame.encap_type == 32767",
        "frame.encap_type > -32768",
        "iwarp_rdma.opcode == 0",
        "iwarp_rdma.opcode == 15",
        "iwarp_rdma.opcode == 0xf",
        "oneshot.stag == 4294967295",
        "oneshot.op == \"\"",
        "oneshot.op contains \"\"",
        "tcp.payload contains \"\\\"\\\\\\t\\r\\0\"",
        "ip.src != 10.0.0.0/8",
        "ipv6.src == ::ffff:10.0.0.1",
        "ip.proto == tcp.port",
        "frame.time_relative == frame.time_delta",
    ] {
        if let Err(e) = Filter::compile(text) {
            panic!("{text:?} does not compile:\n{e}");
        }
    }
}

#[test]
fn api() {
    let f = Filter::compile(
        "iwarp_rdma.opcode == 8 && (tcp.srcport == tcp.dstport || iwarp_rdma.opcode in {1..2})",
    )
    .unwrap();
    assert_eq!(
        f.fields(),
        vec![
            id("tcp.srcport"),
            id("tcp.dstport"),
            id("iwarp_rdma.opcode")
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(
        f.text(),
        "iwarp_rdma.opcode == 8 && (tcp.srcport == tcp.dstport || iwarp_rdma.opcode in {1..2})"
    );
    let parsed: Filter = "iwarp_mpa".parse().unwrap();
    assert_eq!(parsed.fields(), vec![id("iwarp_mpa")]);
    let e = Filter::compile("ip.src == 300").unwrap_err();
    assert_eq!(e.col, 11);
    assert_eq!(e.text, "ip.src == 300");
    assert!(!e.to_string().lines().next().unwrap().is_empty());
}

/// (filter, column, rendered message).
#[test]
fn errors() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "ip.scr == 10.0.0.1",
            1,
            "unknown field \"ip.scr\"; did you mean ip.src, ip.addr or ip.dst? (column 1)\n    ip.scr == 10.0.0.1\n    ^",
        ),
        (
            "foo.bar.baz",
            1,
            "unknown field \"foo.bar.baz\" (column 1)\n    foo.bar.baz\n    ^",
        ),
        (
            "ip.src == 300",
            11,
            "invalid value 300 for ip.src (FT_IPv4): expected an IPv4 address like 10.0.0.1 or a subnet like 10.0.0.0/24 (column 11)\n    ip.src == 300\n              ^",
        ),
        (
            "frame.len == \"x\"",
            14,
            "invalid value \"x\" for frame.len (FT_UINT32): expected an integer from 0 to 4294967295 (column 14)\n    frame.len == \"x\"\n                 ^",
        ),
        (
            "iwarp_rdma.opcode == bogus",
            22,
            "invalid value bogus for iwarp_rdma.opcode (FT_UINT8): expected an integer from 0 to 15 or one of write, send, send_se, terminate, read_request, … (column 22)\n    iwarp_rdma.opcode == bogus\n                         ^",
        ),
        (
            "iwarp_rdma.opcode == \"Send with SE and Close\" || iwarp_rdma.opcode == sned",
            71,
            "invalid value sned for iwarp_rdma.opcode (FT_UINT8): expected an integer from 0 to 15 or one of send, write, send_se, terminate, send_se_close, … (column 71)\n    iwarp_rdma.opcode == \"Send with SE and Close\" || iwarp_rdma.opcode == sned\n                                                                          ^",
        ),
        (
            "ip.ttl == 300",
            11,
            "invalid value 300 for ip.ttl (FT_UINT8): expected an integer from 0 to 255 (column 11)\n    ip.ttl == 300\n              ^",
        ),
        (
            "ip.ttl == -1",
            11,
            "invalid value -1 for ip.ttl (FT_UINT8): expected an integer from 0 to 255 (column 11)\n    ip.ttl == -1\n              ^",
        ),
        (
            "frame.len == 010",
            14,
            "invalid value 010 for frame.len (FT_UINT32): a leading 0 is ambiguous (tshark reads octal): write 10 for decimal or 0o10 for octal (column 14)\n    frame.len == 010\n                 ^",
        ),
        (
            "tcp.analysis.retransmission == 1",
            29,
            "tcp.analysis.retransmission (FT_NONE) has no value to compare: test only whether it is present, as in 'tcp.analysis.retransmission' or '!tcp.analysis.retransmission' (column 29)\n    tcp.analysis.retransmission == 1\n                                ^",
        ),
        (
            "tcp == 1",
            5,
            "tcp is a protocol (FT_PROTOCOL) with no value to compare: test whether it is present ('tcp') or search its bytes with 'contains' (column 5)\n    tcp == 1\n        ^",
        ),
        (
            "tcp.port contains 80",
            10,
            "'contains' needs a string, byte-string or protocol field, and tcp.port is FT_UINT16; use '==' or 'in' (column 10)\n    tcp.port contains 80\n             ^",
        ),
        (
            "tcp.port matches \"x\"",
            10,
            "'matches' (regular expressions) is not supported; use 'contains' or '==' (column 10)\n    tcp.port matches \"x\"\n             ^",
        ),
        (
            "tcp.port ~ \"x\"",
            10,
            "'matches' (regular expressions) is not supported; use 'contains' or '==' (column 10)\n    tcp.port ~ \"x\"\n             ^",
        ),
        (
            "tcp.port ==",
            12,
            "expected a value after '==', found the end of the filter (column 12)\n    tcp.port ==\n               ^",
        ),
        (
            "tcp.port == 80 &&",
            18,
            "expected a field name, found the end of the filter (column 18)\n    tcp.port == 80 &&\n                     ^",
        ),
        (
            "(tcp.port == 80",
            16,
            "expected '&&', '||' or ')' to close the '(' at column 1, found the end of the filter (column 16)\n    (tcp.port == 80\n                   ^",
        ),
        (
            "tcp.port == 80)",
            15,
            "expected '&&', '||' or the end of the filter, found ')' (column 15)\n    tcp.port == 80)\n                  ^",
        ),
        (
            "tcp.port 80",
            10,
            "expected a comparison operator, '&&', '||' or the end of the filter, found '80' (column 10)\n    tcp.port 80\n             ^",
        ),
        (
            "oneshot.op == \"abc",
            15,
            "unterminated string: expected a closing '\"' (column 15)\n    oneshot.op == \"abc\n                  ^",
        ),
        (
            "oneshot.op == \"a\\qb\"",
            17,
            "invalid escape \\q in string: use \\\", \\\\, \\xNN, \\n, \\r, \\t or \\0 (column 17)\n    oneshot.op == \"a\\qb\"\n                    ^",
        ),
        (
            "oneshot.op == \"a\\x4\"",
            17,
            "invalid escape \\x4 in string: use \\\", \\\\, \\xNN, \\n, \\r, \\t or \\0 (column 17)\n    oneshot.op == \"a\\x4\"\n                    ^",
        ),
        (
            "tcp.port in {80 443",
            20,
            "expected '}' to close the set at column 13, found the end of the filter (column 20)\n    tcp.port in {80 443\n                       ^",
        ),
        (
            "tcp.port in {80 443 && frame",
            21,
            "expected a value or '}' in the set, found '&&' (column 21)\n    tcp.port in {80 443 && frame\n                        ^",
        ),
        (
            "tcp.port in {}",
            14,
            "expected a value in the set, found '}' (a set cannot be empty) (column 14)\n    tcp.port in {}\n                 ^",
        ),
        (
            "tcp.port in {5..1}",
            14,
            "empty range 5..1: the first bound must not exceed the second (column 14)\n    tcp.port in {5..1}\n                 ^",
        ),
        (
            "tcp.port in {5..}",
            17,
            "expected the end of the range after '..', found '}' (column 17)\n    tcp.port in {5..}\n                    ^",
        ),
        (
            "tcp.port in 80",
            13,
            "expected '{' to open a set after 'in', found '80' (column 13)\n    tcp.port in 80\n                ^",
        ),
        (
            "ip.src > 10.0.0.0/24",
            10,
            "a subnet (10.0.0.0/24) can only be compared with ==, != or in (column 10)\n    ip.src > 10.0.0.0/24\n             ^",
        ),
        (
            "ip.src == 10.0.0.1/33",
            11,
            "invalid value 10.0.0.1/33 for ip.src (FT_IPv4): expected an IPv4 address like 10.0.0.1 or a subnet like 10.0.0.0/24 (column 11)\n    ip.src == 10.0.0.1/33\n              ^",
        ),
        (
            "ipv6.src == 10.0.0.1",
            13,
            "invalid value 10.0.0.1 for ipv6.src (FT_IPv6): expected an IPv6 address like fe80::1 or a prefix like fe80::/64 (column 13)\n    ipv6.src == 10.0.0.1\n                ^",
        ),
        (
            "tcp.srcport == ip.src",
            16,
            "cannot compare tcp.srcport (FT_UINT16) with the field ip.src (FT_IPv4) (column 16)\n    tcp.srcport == ip.src\n                   ^",
        ),
        (
            "oneshot.op == tcp.port",
            15,
            "cannot compare oneshot.op (FT_STRING) with the field tcp.port (FT_UINT16); to compare with the text, quote it: \"tcp.port\" (column 15)\n    oneshot.op == tcp.port\n                  ^",
        ),
        (
            "tcp.srcport == tcp.dstprot",
            16,
            "invalid value tcp.dstprot for tcp.srcport (FT_UINT16): expected an integer from 0 to 65535 (or did you mean the field tcp.dstport?) (column 16)\n    tcp.srcport == tcp.dstprot\n                   ^",
        ),
        (
            "eth.src == 02:00:00:00:01",
            12,
            "invalid value 02:00:00:00:01 for eth.src (FT_ETHER): expected a MAC address like 02:00:00:00:00:01 (column 12)\n    eth.src == 02:00:00:00:01\n               ^",
        ),
        (
            "tcp.flags.syn == 2",
            18,
            "invalid value 2 for tcp.flags.syn (FT_BOOLEAN): expected 1, 0, true or false (column 18)\n    tcp.flags.syn == 2\n                     ^",
        ),
        (
            "frame.time_relative > abc",
            23,
            "invalid value abc for frame.time_relative (FT_RELATIVE_TIME): expected a number of seconds like 0.5 (column 23)\n    frame.time_relative > abc\n                          ^",
        ),
        (
            "frame.time > yesterday",
            14,
            "invalid value yesterday for frame.time (FT_ABSOLUTE_TIME): expected seconds since 1970-01-01 UTC like 1700000000.25 (column 14)\n    frame.time > yesterday\n                 ^",
        ),
        (
            "data.data == xyz",
            14,
            "invalid value xyz for data.data (FT_BYTES): expected a byte string like aa:bb:cc or a quoted string (column 14)\n    data.data == xyz\n                 ^",
        ),
        (
            "&& frame",
            1,
            "expected a field name, found '&&' (column 1)\n    && frame\n    ^",
        ),
        (
            "tcp.port == 80 || || frame",
            19,
            "expected a field name, found '||' (column 19)\n    tcp.port == 80 || || frame\n                      ^",
        ),
        (
            "eth.src[0:3] == 02",
            8,
            "expected a comparison operator, '&&', '||' or the end of the filter, found '[' (slices like [0:3] are not supported) (column 8)\n    eth.src[0:3] == 02\n           ^",
        ),
        (
            "oneshot.op == \"é\" && ip.src == 1",
            32,
            "invalid value 1 for ip.src (FT_IPv4): expected an IPv4 address like 10.0.0.1 or a subnet like 10.0.0.0/24 (column 32)\n    oneshot.op == \"é\" && ip.src == 1\n                                   ^",
        ),
        (
            "frame.len == 1 &&\n ip.src == 10.0.0.1\n && bogus.field",
            43,
            "unknown field \"bogus.field\" (column 43)\n    frame.len == 1 &&  ip.src == 10.0.0.1  && bogus.field\n                                              ^",
        ),
        (
            "",
            1,
            "expected a field name, found the end of the filter (column 1)\n    \n    ^",
        ),
        (
            "   ",
            4,
            "expected a field name, found the end of the filter (column 4)\n       \n       ^",
        ),
        (
            "()",
            2,
            "expected a field name, found ')' (column 2)\n    ()\n     ^",
        ),
        (
            "frame.len == and",
            14,
            "expected a value after '==', found 'and' (column 14)\n    frame.len == and\n                 ^",
        ),
        (
            "frame.len == 99999999999999999999999999999999999999999999",
            14,
            "invalid value 99999999999999999999999999999999999999999999 for frame.len (FT_UINT32): expected an integer from 0 to 4294967295 (column 14)\n    frame.len == 99999999999999999999999999999999999999999999\n                 ^",
        ),
        (
            "tcp.port == 80 = 1",
            16,
            "expected '&&', '||' or the end of the filter, found '=' (did you mean '=='?) (column 16)\n    tcp.port == 80 = 1\n                   ^",
        ),
        (
            "frame | iwarp_mpa",
            7,
            "expected a comparison operator, '&&', '||' or the end of the filter, found '|' (did you mean '||'?) (column 7)\n    frame | iwarp_mpa\n          ^",
        ),
        (
            "frame & iwarp_mpa",
            7,
            "expected a comparison operator, '&&', '||' or the end of the filter, found '&' (did you mean '&&'?) (column 7)\n    frame & iwarp_mpa\n          ^",
        ),
        (
            "tcp.port = 80",
            10,
            "expected a comparison operator, '&&', '||' or the end of the filter, found '=' (did you mean '=='?) (column 10)\n    tcp.port = 80\n             ^",
        ),
        (
            "tcp.port == 1 || tcp.port == 2 || tcp.port == 3 || tcp.port == 4 || tcp.port == 5 || tcp.port == 6 || tcp.port == 7 || tcp.port == 8 || tcp.bogus || tcp.port == 10 || tcp.port == 11 || tcp.port == 12 || tcp.port == 13",
            137,
            "unknown field \"tcp.bogus\" (column 137)\n    …cp.port == 6 || tcp.port == 7 || tcp.port == 8 || tcp.bogus || tcp.port == 10 || tcp.port == 11 || t…\n                                                       ^",
        ),
        (
            "tcp.port == 1 || tcp.port == 2 || tcp.port == 3 || tcp.port == 4 || tcp.port == 5 || tcp.port == 6 || tcp.port == 7 || tcp.port == 8 || tcp.port == x",
            149,
            "invalid value x for tcp.port (FT_UINT16): expected an integer from 0 to 65535 (column 149)\n    …| tcp.port == 4 || tcp.port == 5 || tcp.port == 6 || tcp.port == 7 || tcp.port == 8 || tcp.port == x\n                                                                                                        ^",
        ),
        (
            "tcp.bogus || tcp.port == 1 || tcp.port == 2 || tcp.port == 3 || tcp.port == 4 || tcp.port == 5 || tcp.port == 6 || tcp.port == 7 || tcp.port == 8",
            1,
            "unknown field \"tcp.bogus\" (column 1)\n    tcp.bogus || tcp.port == 1 || tcp.port == 2 || tcp.port == 3 || tcp.port == 4 || tcp.port == 5 || tc…\n    ^",
        ),
        (
            "iwarp_rdma.opcode == 16",
            22,
            "invalid value 16 for iwarp_rdma.opcode (FT_UINT8): expected an integer from 0 to 15 (column 22)\n    iwarp_rdma.opcode == 16\n                         ^",
        ),
        (
            "oneshot.op == \"a\nb\" && frame.len == \"a\nb\"",
            37,
            "invalid value \"a\\nb\" for frame.len (FT_UINT32): expected an integer from 0 to 4294967295 (column 37)\n    oneshot.op == \"a b\" && frame.len == \"a b\"\n                                        ^",
        ),
    ];
    for (text, col, rendered) in cases {
        let e = Filter::compile(text).expect_err(text);
        assert_eq!(e.to_string(), *rendered, "{text:?}");
        assert_eq!(e.col, *col, "{text:?}");
    }
}

/// Nesting up to the limit compiles; one more level is a clean error at the extra token.
#[test]
fn deep_nesting() {
    let fr = frames();
    let ok = format!("{}iwarp_mpa{}", "(".repeat(256), ")".repeat(256));
    check(&fr, &ok, [T, T, F]);
    let ok = format!("{}iwarp_mpa", "!".repeat(256));
    check(&fr, &ok, [T, T, F]);
    let ok = format!("{}iwarp_mpa{}", "(!".repeat(128), ")".repeat(128));
    check(&fr, &ok, [T, T, F]);

    let e =
        Filter::compile(&format!("{}iwarp_mpa{}", "(".repeat(257), ")".repeat(257))).unwrap_err();
    assert_eq!(e.col, 257);
    assert_eq!(
        e.message,
        "filter nested too deeply: at most 256 levels of parentheses and 'not'"
    );
    let e = Filter::compile(&format!("{}frame", "not ".repeat(100_000))).unwrap_err();
    assert_eq!(e.col, 257 * 4 - 3);
    let e = Filter::compile(&"(".repeat(1_000_000)).unwrap_err();
    assert_eq!(e.col, 257);
}

/// Long flat filters neither recurse in the parser nor in evaluation.
#[test]
fn long_filters() {
    let fr = frames();
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("oneshot.stag == {} || ", 100_000 + i));
    }
    text.push_str("tcp.analysis.retransmission");
    check(&fr, &text, [F, T, F]);
    let text = vec!["frame"; 50_000].join(" && ");
    check(&fr, &text, [T, T, T]);
    let evens = (0..50_000)
        .map(|i| (i * 2).to_string())
        .collect::<Vec<_>>()
        .join(" ");
    check(&fr, &format!("oneshot.stag in {{{evens}}}"), [T, T, F]);
    let odds = (0..50_000)
        .map(|i| (i * 2 + 1).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    check(&fr, &format!("oneshot.stag in {{{odds}}}"), [F, F, F]);
}

/// Random edits of valid filters: compile never panics, errors point inside the text (or one
/// past it) and render, and whatever compiles evaluates.
#[test]
fn fuzz_compile_never_panics() {
    let seeds = [
        "iwarp_rdma.opcode == 8 && ip.src == 10.0.0.0/24",
        "!(tcp.port in {80, 443..445}) || oneshot.op contains \"a\\x41\\\"\"",
        "eth.src == 02:00:00:00:00:01 or ipv6.addr == fe80::/64",
        "tcp.payload contains aa:bb:cc and frame.time_relative > 0.5",
        "iwarp_rdma.opcode ~= send_with_se && tcp.srcport == tcp.dstport",
        "not tcp.analysis.retransmission and tcp.flags.syn == true",
    ];
    let alphabet: Vec<char> = "(){}!=<>~&|\".:-/\\x0123456789abcfsz ,\n\t[]é∀"
        .chars()
        .collect();
    let fr = frames();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for round in 0..4_000 {
        let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
        for _ in 0..1 + rand(4) {
            let at = rand(chars.len() + 1);
            match rand(4) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                1 => chars.insert(at, alphabet[rand(alphabet.len())]),
                2 if at < chars.len() => chars[at] = alphabet[rand(alphabet.len())],
                _ => chars.truncate(at),
            }
        }
        let text: String = chars.iter().collect();
        match Filter::compile(&text) {
            Ok(f) => {
                for frame in &fr {
                    let _ = f.matches(&frame.tree, &frame.bytes);
                }
            }
            Err(e) => {
                assert!(
                    e.col >= 1 && e.col <= chars.len() + 1,
                    "{text:?}: column {}",
                    e.col
                );
                let shown = e.to_string();
                assert!(!e.message.contains('\n'), "{text:?}: {shown}");
                assert_eq!(shown.lines().count(), 3, "{text:?}: {shown}");
            }
        }
    }
}
