//! Scripts that do not parse: each mistake with its message, line and column, and a check that
//! no input makes the parser panic.

use super::{ScriptError, parse};

/// Two hosts (lines 1-2).
const HOSTS: &str = "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
";

/// Two hosts, an iwarp conn `c1` and an iscsi conn `c2` (lines 1-4).
const PRE: &str = "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
conn c2 h1:49153 -> h2:3260 iscsi
";

fn error(src: &str) -> ScriptError {
    match parse(src) {
        Ok(sc) => panic!("parsed: {src}\n{sc:?}"),
        Err(e) => e,
    }
}

/// `src` fails at `line`, `col` with `msg`; the rendered error shows that line and a caret under
/// the column.
#[track_caller]
fn fails(src: &str, line: u32, col: u32, msg: &str) {
    let e = error(src);
    assert_eq!(
        (e.line, e.col, e.message.as_str()),
        (line, col, msg),
        "{src}"
    );
    let text = src.split('\n').nth(line as usize - 1).unwrap();
    let text = text.strip_suffix('\r').unwrap_or(text);
    assert_eq!(e.source_line, text);
    let pad: String = text
        .chars()
        .chain(std::iter::repeat(' '))
        .take(col as usize - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    assert_eq!(
        e.render("s.os"),
        format!("s.os:{line}:{col}: {msg}\n    {text}\n    {pad}^")
    );
    assert_eq!(
        e.to_string(),
        format!("line {line}, column {col}: {msg}\n    {text}\n    {pad}^")
    );
}

/// The body after `PRE` fails on line 5.
#[track_caller]
fn fails_after_pre(body: &str, col: u32, msg: &str) {
    fails(&format!("{PRE}{body}"), 5, col, msg);
}

#[test]
fn rendered_exactly() {
    let e = error(&format!("{HOSTS}conn c1 h1:49152 -> h3:3260 iwarp\n"));
    assert_eq!(
        e.render("script.os"),
        "script.os:3:21: unknown host \"h3\" (declared: h1, h2)\n\
         \x20   conn c1 h1:49152 -> h3:3260 iwarp\n\
         \x20                       ^"
    );
    let e = error(&format!("{PRE}write lots\n"));
    assert_eq!(
        e.to_string(),
        "line 5, column 7: expected a size such as 4096, 64K or 1MiB, found \"lots\"\n\
         \x20   write lots\n\
         \x20         ^"
    );
    let e = error(&format!("{PRE}\twrite 4K fault crcc\r\n"));
    assert_eq!(
        e.render("s.os"),
        "s.os:5:17: unknown fault \"crcc\" (did you mean \"crc\"?)\n\
         \x20   \twrite 4K fault crcc\n\
         \x20   \t               ^"
    );
    let e = error(&format!("{HOSTS}conn c1 h1:1 -> h2:2 iwarp mpa 1 ird 4\n"));
    assert_eq!(
        e.render("s.os"),
        "s.os:3:34: \"ird\" needs \"mpa 2\"\n\
         \x20   conn c1 h1:1 -> h2:2 iwarp mpa 1 ird 4\n\
         \x20                                    ^"
    );
    // An error at the end of the line points just past the last word.
    let e = error(&format!("{PRE}write   # size forgotten\n"));
    assert_eq!(
        e.render("s.os"),
        "s.os:5:6: expected a size such as 4096, 64K or 1MiB, found the end of the line\n\
         \x20   write   # size forgotten\n\
         \x20        ^"
    );
}

#[test]
fn names() {
    let conn = |rest: &str| format!("{HOSTS}conn {rest}\n");
    fails(
        &conn("c1 h1:1 -> h3:2 iwarp"),
        3,
        17,
        "unknown host \"h3\" (declared: h1, h2)",
    );
    fails(
        &conn("c1 hh1:1 -> h2:2 iwarp"),
        3,
        9,
        "unknown host \"hh1\" (did you mean \"h1\"? declared: h1, h2)",
    );
    fails(
        "conn c1 h1:1 -> h2:2 iwarp",
        1,
        9,
        "unknown host \"h1\" (no host is declared yet; declare it first with \"host NAME mac MAC ip IP\")",
    );
    fails(
        &format!("{HOSTS}host h1 mac 02:00:00:00:00:03 ip 10.0.0.3"),
        3,
        6,
        "host \"h1\" is already declared on line 1; use another name",
    );
    fails(
        &format!("{PRE}conn c1 h1:7 -> h2:7 iscsi"),
        5,
        6,
        "conn \"c1\" is already declared on line 3; use another name",
    );
    fails(
        "host write mac 02:00:00:00:00:03 ip 10.0.0.3",
        1,
        6,
        "\"write\" is a keyword and cannot name a host; use another name such as h1",
    );
    fails(
        &conn("target h1:1 -> h2:2 iwarp"),
        3,
        6,
        "\"target\" is a keyword and cannot name a conn; use another name such as c1",
    );
    fails(
        "host 1h mac 02:00:00:00:00:03 ip 10.0.0.3",
        1,
        6,
        "expected a host name such as h1 (a letter, then letters, digits, \"-\" or \"_\"), found \"1h\"",
    );
    fails_after_pre(
        "write 4K on c3",
        13,
        "unknown conn \"c3\" (declared: c1, c2)",
    );
    fails(
        &format!("{HOSTS}write 4K on c1"),
        3,
        13,
        "unknown conn \"c1\" (no conn is declared yet; declare it first with \"conn NAME HOST:PORT -> HOST:PORT iwarp\")",
    );
}

#[test]
fn unknown_words() {
    fails_after_pre(
        "wirte 4K",
        1,
        "unknown statement \"wirte\" (did you mean \"write\"?)",
    );
    fails_after_pre(
        "frobnicate",
        1,
        "unknown statement \"frobnicate\" (expected one of: seed, host, profile, conn, write, \
         read, send, rdma-write, rdma-read, terminate, immediate, atomic, pause, repeat, fault, \
         mutate, snaplen, capture)",
    );
    fails_after_pre(
        "Write 4K",
        1,
        "unknown statement \"Write\" (did you mean \"write\"?)",
    );
    fails_after_pre(
        "write 4K flwo oneshot",
        10,
        "unknown option \"flwo\" for \"write\" (did you mean \"flow\"?)",
    );
    fails_after_pre(
        "write 4K 8K",
        10,
        "unknown option \"8K\" for \"write\" (expected one of: flow, stag, on, fault)",
    );
    fails_after_pre(
        "terminate fault crc",
        11,
        "unknown option \"fault\" for \"terminate\" (expected one of: layer, from, on)",
    );
    fails_after_pre(
        "write 4K flow fast",
        15,
        "unknown flow \"fast\" (expected one of: oneshot, conventional, iscsi-tcp)",
    );
    fails_after_pre(
        "send 1 from targte",
        13,
        "unknown side \"targte\" (did you mean \"target\"?)",
    );
    fails(
        "profile encoding opcodes",
        1,
        18,
        "unknown encoding \"opcodes\" (did you mean \"opcode\"?)",
    );
    fails(
        "profile placement",
        1,
        18,
        "expected a placement (one of: rsvdulp, appended), found the end of the line",
    );
    fails(
        &format!("{HOSTS}host h3 mac 02:00:00:00:00:03 ip 10.0.0.3 vlna 5"),
        3,
        43,
        "unknown option \"vlna\" for \"host\" (did you mean \"vlan\"?)",
    );
    fails_after_pre(
        "\"write\" 4K",
        1,
        "expected a statement such as \"host\", \"conn\" or \"write\", found the string \"write\"",
    );
    fails_after_pre(
        "{",
        1,
        "expected a statement such as \"host\", \"conn\" or \"write\", found \"{\"",
    );
    fails_after_pre(
        "write 4K }",
        10,
        "\"}\" must be alone on its line, after the last line of the repeat block",
    );
}

#[test]
fn blocks() {
    fails(
        &format!("{PRE}repeat 4 {{\n  write 4K\n"),
        5,
        10,
        "unclosed \"{\": end this repeat block with \"}\" on a line of its own",
    );
    fails(
        &format!("{PRE}repeat 2 {{\n  repeat 3 {{\n  write 4K\n}}\n"),
        5,
        10,
        "unclosed \"{\": end this repeat block with \"}\" on a line of its own",
    );
    fails_after_pre(
        "}",
        1,
        "stray \"}\": no repeat block is open (a block starts with \"repeat N {\")",
    );
    fails(
        &format!("{PRE}repeat 2 {{\n}}\n  }}"),
        7,
        3,
        "stray \"}\": no repeat block is open (a block starts with \"repeat N {\")",
    );
    fails(
        &format!("{PRE}repeat 2 {{\n}} write 4K\n"),
        6,
        3,
        "expected the end of the line after \"}\", found \"write\"",
    );
    fails_after_pre(
        "repeat 2 { write 4K }",
        12,
        "expected the end of the line after \"{\" (the block's statements go on the lines below), found \"write\"",
    );
    fails_after_pre(
        "repeat 2",
        9,
        "expected \"{\" after the repeat count, found the end of the line",
    );
    fails_after_pre(
        "repeat 0 {",
        8,
        "a repeat count must be 1 to 18446744073709551615, found 0",
    );
    fails_after_pre(
        "repeat many {",
        8,
        "expected a repeat count such as 4, found \"many\"",
    );
    fails(
        &format!("{PRE}repeat 2 {{\n  host h3 mac 02:00:00:00:00:03 ip 10.0.0.3\n}}"),
        6,
        3,
        "\"host\" applies to the whole run, so it cannot go inside a repeat block (open since line 5); put it before the block",
    );
    fails(
        &format!("{PRE}repeat 2 {{\n  fault crc rate 0.1\n}}"),
        6,
        3,
        "\"fault\" applies to the whole run, so it cannot go inside a repeat block (open since line 5); put it before the block",
    );
    let deep = format!("{PRE}{}", "repeat 1 {\n".repeat(65));
    fails(
        &deep,
        69,
        10,
        "repeat blocks nest at most 64 deep; flatten this one",
    );
}

#[test]
fn values_out_of_range() {
    let host = |opts: &str| format!("host h1 mac 02:00:00:00:00:01 ip 10.0.0.1 {opts}");
    fails(
        &host("vlan 0"),
        1,
        48,
        "\"vlan\" must be 1 to 4094, found 0",
    );
    fails(
        &host("vlan 4095"),
        1,
        48,
        "\"vlan\" must be 1 to 4094, found 4095",
    );
    fails(
        &host("mss 535"),
        1,
        47,
        "\"mss\" must be 536 to 9000, found 535",
    );
    fails(
        &host("mss 9001"),
        1,
        47,
        "\"mss\" must be 536 to 9000, found 9001",
    );
    fails(
        &host("window 0"),
        1,
        50,
        "\"window\" must be 1 to 65535, found 0",
    );
    fails(
        &host("window 65536"),
        1,
        50,
        "\"window\" must be 1 to 65535, found 65536",
    );
    fails(
        &host("rate 25"),
        1,
        48,
        "expected a link rate such as 25G, 100M or 2.5G, found \"25\"",
    );
    fails(
        &host("rate 0G"),
        1,
        48,
        "a link rate must be above 0, found 0",
    );
    fails(
        &host("latency 5"),
        1,
        51,
        "expected a duration such as 2us, 500ns or 1.5ms, found \"5\"",
    );
    fails(
        &host("latency 0.5ns"),
        1,
        51,
        "a duration must be a whole number of nanoseconds, found 0.5ns",
    );
    fails(
        &host("vlan 1 vlan 2"),
        1,
        50,
        "\"vlan\" is given twice (first at column 43); keep one",
    );
    fails(
        "host h1 mac 02:00:00:00:01 ip 10.0.0.1",
        1,
        13,
        "expected a MAC address such as 02:00:00:00:00:01, found \"02:00:00:00:01\"",
    );
    fails(
        "host h1 mac 02:00:00:00:00:01 ip 10.0.0.256",
        1,
        34,
        "expected an IP address such as 10.0.0.1 or fd00::1, found \"10.0.0.256\"",
    );
    fails(
        "host h1 ip 10.0.0.1",
        1,
        9,
        "expected \"mac\" after the host name, found \"ip\"",
    );
    fails_after_pre(
        "write 0",
        7,
        "a size must be 1 to 4294967295 octets (under 4GiB), found 0",
    );
    fails_after_pre(
        "write 4GiB",
        7,
        "expected a size such as 4096, 64K or 1MiB, found \"4GiB\"",
    );
    fails_after_pre(
        "write 4096M",
        7,
        "a size must be 1 to 4294967295 octets (under 4GiB), found 4096M = 4294967296",
    );
    fails_after_pre(
        "write 4294967296",
        7,
        "a size must be 1 to 4294967295 octets (under 4GiB), found 4294967296 = 4294967296",
    );
    fails_after_pre(
        "send 1 inv 0x100000000",
        12,
        "an STag must be 0 to 4294967295, found 4294967296",
    );
    fails_after_pre(
        "immediate 0x00112233445566778",
        11,
        "expected immediate data: 0x and 1 to 16 hex digits, such as 0x0123456789abcdef, found \"0x00112233445566778\"",
    );
    fails_after_pre(
        "terminate layer 16 etype 0 code 0",
        17,
        "a layer must be 0 to 15, found 16",
    );
    fails_after_pre(
        "terminate layer 1 code 0",
        19,
        "expected \"etype\" after the layer, found \"code\"",
    );
    fails_after_pre(
        "atomic fetch-add 1 to 12",
        23,
        "an atomic's tagged offset must be a multiple of 8, found 12",
    );
    fails_after_pre(
        "atomic swap 1",
        8,
        "unknown atomic operation \"swap\" (expected one of: fetch-add, cmp-swap)",
    );
    fails_after_pre(
        "pause",
        6,
        "expected a duration such as 2us, 500ns, 1.5ms or 1s, found the end of the line",
    );
    fails_after_pre(
        "write 4K fault split 0",
        22,
        "a split offset must be 1 to 65535, found 0",
    );
    fails_after_pre("snaplen 53", 9, "\"snaplen\" must be 54 to 65535, found 53");
    fails_after_pre(
        "snaplen 65536",
        9,
        "\"snaplen\" must be 54 to 65535, found 65536",
    );
    fails_after_pre(
        "capture from 0",
        14,
        "\"capture from\" must be 1 to 18446744073709551615, found 0",
    );
    fails_after_pre(
        "capture 5",
        9,
        "expected \"from\" after \"capture\" (as in \"capture from 5\"), found \"5\"",
    );
    fails_after_pre("seed -1", 6, "expected a seed such as 7, found \"-1\"");
    fails_after_pre(
        "fault crc rate 0",
        16,
        "a rate is a probability above 0 and at most 1, such as 0.01; found 0",
    );
    fails_after_pre(
        "fault crc rate 1.5",
        16,
        "a rate is a probability above 0 and at most 1, such as 0.01; found 1.5",
    );
    fails_after_pre(
        "mutate rate 0",
        13,
        "a rate is a probability above 0 and at most 1, such as 0.01; found 0",
    );
    fails_after_pre(
        "mutate 0.05",
        8,
        "expected \"rate\" after \"mutate\" (as in \"mutate rate 0.05\"), found \"0.05\"",
    );
    fails_after_pre(
        "fault crc",
        10,
        "expected \"rate\" and a probability such as 0.01 after \"fault crc\", found the end of \
         the line; to fault one command only, end that command with \"fault crc\"",
    );
    fails(
        &format!("{PRE}seed 2\nseed 3"),
        6,
        1,
        "\"seed\" is already given on line 5; keep one",
    );
    fails_after_pre(
        "write 4K flow oneshot flow oneshot",
        23,
        "\"flow\" is given twice (first at column 10); keep one",
    );
}

#[test]
fn conn_rules() {
    let conn = |rest: &str| format!("{HOSTS}conn c9 {rest}");
    fails(
        &conn("h1:0 -> h2:1 iwarp"),
        3,
        12,
        "a port must be 1 to 65535, found 0",
    );
    fails(
        &conn("h1:1 -> h2:65536 iwarp"),
        3,
        20,
        "a port must be 1 to 65535, found 65536",
    );
    fails(
        &conn("h1:x -> h2:1 iwarp"),
        3,
        12,
        "expected a port from 1 to 65535 after \"h1:\", found \"x\"",
    );
    fails(
        &conn("h1 -> h2:1 iwarp"),
        3,
        9,
        "expected HOST:PORT such as h1:49152, found \"h1\"",
    );
    fails(
        &conn("h1:1 h2:1 iwarp"),
        3,
        14,
        "expected \"->\" between the initiator and the target, found \"h2:1\"",
    );
    fails(
        &conn("h1:1 -> h2:1"),
        3,
        21,
        "expected a protocol (one of: iwarp, iscsi), found the end of the line",
    );
    fails(
        &conn("h1:1 -> h2:1 rdma"),
        3,
        22,
        "unknown protocol \"rdma\" (expected one of: iwarp, iscsi)",
    );
    fails(
        &conn("h1:1 -> h1:2 iwarp"),
        3,
        17,
        "both ends are host \"h1\"; a conn joins two different hosts",
    );
    fails(
        &format!("{HOSTS}host h6 mac 02:00:00:00:00:06 ip fd00::6\nconn c9 h1:1 -> h6:2 iwarp"),
        4,
        17,
        "host \"h1\" is IPv4 but \"h6\" is IPv6; both hosts of a conn need the same IP version",
    );
    fails(
        &format!("{PRE}conn c9 h2:3260 -> h1:49152 iscsi"),
        5,
        9,
        "conn \"c1\" (line 3) already joins these hosts and ports; use other ports",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp mpa 1 p2p send"),
        3,
        34,
        "\"p2p\" needs \"mpa 2\"",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp ord 1 mpa 1"),
        3,
        28,
        "\"ord\" needs \"mpa 2\"",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp mpa 3"),
        3,
        32,
        "unknown MPA revision \"3\" (expected one of: 1, 2)",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp ird 16384"),
        3,
        32,
        "\"ird\" must be 0 to 16383, found 16384",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp depth 0"),
        3,
        34,
        "\"depth\" must be 1 to 1024, found 0",
    );
    fails(
        &conn("h1:1 -> h2:1 iscsi depth 1025"),
        3,
        34,
        "\"depth\" must be 1 to 1024, found 1025",
    );
    fails(
        &conn("h1:1 -> h2:1 iscsi mpa 2"),
        3,
        28,
        "\"mpa\" is an iwarp option, and conn \"c9\" is iscsi",
    );
    fails(
        &conn("h1:1 -> h2:1 iscsi crc off"),
        3,
        28,
        "\"crc\" is an iwarp option, and conn \"c9\" is iscsi",
    );
    fails(
        &conn("h1:1 -> h2:1 iscsi dpeth 2"),
        3,
        28,
        "unknown option \"dpeth\" for \"conn\" (did you mean \"depth\"?)",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp crc maybe"),
        3,
        32,
        "unknown CRC setting \"maybe\" (expected one of: on, off)",
    );
    fails(
        &conn(&format!(
            "h1:1 -> h2:1 iwarp private \"{}\"",
            "x".repeat(509)
        )),
        3,
        36,
        "private data is 509 octets; an MPA Request carries at most 508",
    );
    fails(
        &conn(&format!(
            "h1:1 -> h2:1 iwarp private 0x{}",
            "00".repeat(509)
        )),
        3,
        36,
        "private data is 509 octets; an MPA Request carries at most 508",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp private 0x123"),
        3,
        36,
        "hex data needs an even number of digits (two per octet), found 3 in 0x123",
    );
    fails(
        &conn("h1:1 -> h2:1 iwarp private \"abc"),
        3,
        36,
        "unclosed string: end it with '\"' on the same line",
    );
}

#[test]
fn commands_against_their_conn() {
    fails(
        &format!("{HOSTS}write 4K"),
        3,
        1,
        "\"write\" needs a conn, and none is declared yet; declare one first, such as \"conn c1 h1:49152 -> h2:3260 iwarp\"",
    );
    fails_after_pre(
        "write 4K flow iscsi-tcp on c1",
        15,
        "flow \"iscsi-tcp\" needs an iscsi conn, and \"c1\" is iwarp",
    );
    fails_after_pre(
        "read 4K on c2 stag 1",
        20,
        "\"stag\" needs flow oneshot or conventional: iSCSI/TCP has no STags",
    );
    fails_after_pre(
        "read 4K flow oneshot on c2",
        14,
        "flow \"oneshot\" needs an iwarp conn, and \"c2\" is iscsi",
    );
    fails_after_pre(
        "write 4K on c2 flow conventional",
        21,
        "flow \"conventional\" needs an iwarp conn, and \"c2\" is iscsi",
    );
    for cmd in [
        "send 4",
        "rdma-write 4",
        "rdma-read 4",
        "terminate",
        "immediate",
        "atomic fetch-add 1",
    ] {
        let word = cmd.split(' ').next().unwrap();
        fails_after_pre(
            &format!("  {cmd} on c2"),
            3,
            &format!("\"{word}\" needs an iwarp conn, and \"c2\" is iscsi"),
        );
    }
    // The last conn declared is the iscsi one here.
    fails_after_pre(
        "send 4",
        1,
        "\"send\" needs an iwarp conn, and \"c2\" is iscsi",
    );
    fails_after_pre(
        "write 4K on c2 fault loss fault crc",
        33,
        "fault \"crc\" needs an iwarp conn, and \"c2\" is iscsi",
    );
}

#[test]
fn columns_count_characters() {
    // "é" is two bytes but one column; a tab is one column.
    fails(
        &format!("{PRE}# é\n\twrite 4K fault crcc # é"),
        6,
        17,
        "unknown fault \"crcc\" (did you mean \"crc\"?)",
    );
    fails(
        &format!("{PRE}write 4K flow \"é\" fault crcc"),
        5,
        15,
        "unknown flow: the string \"é\" (expected one of: oneshot, conventional, iscsi-tcp)",
    );
    fails(
        &format!("{PRE}é"),
        5,
        1,
        "unknown statement \"é\" (expected one of: seed, host, profile, conn, write, read, send, rdma-write, rdma-read, terminate, immediate, atomic, pause, repeat, fault, mutate, snaplen, capture)",
    );
}
