//! Scripts that parse: every statement and option, the defaults, blocks, line endings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use oneshot_codec::oneshot::{Encoding, Placement};

use super::parse;
use crate::model::*;

/// Two IPv4 hosts and an iwarp conn `c1`, then an iscsi conn `c2` (lines 1-4).
const PRE: &str = "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c2 h1:49153 -> h2:3260 iscsi
conn c1 h1:49152 -> h2:3260 iwarp
";

/// The one step of `PRE` + `cmd`.
fn step(cmd: &str) -> Step {
    let sc = parse(&format!("{PRE}{cmd}")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.steps.len(), 1, "{cmd}");
    sc.steps[0].clone()
}

/// The action and faults of the one command `cmd` (on `c1` unless it says otherwise).
fn action(cmd: &str) -> (Action, Vec<Fault>) {
    match step(cmd) {
        Step::Command {
            action,
            faults,
            line,
            ..
        } => {
            assert_eq!(line, 5);
            (action, faults)
        }
        s => panic!("{s:?}"),
    }
}

fn conn_of(cmd: &str) -> usize {
    match step(cmd) {
        Step::Command { conn, .. } => conn,
        s => panic!("{s:?}"),
    }
}

fn mpa(sc: &Scenario, i: usize) -> MpaSettings {
    match &sc.conns[i].kind {
        ConnKind::Iwarp(m) => m.clone(),
        k => panic!("{k:?}"),
    }
}

fn host(name: &str, line: Line, last: u8, vlan: Option<u16>, latency: u64) -> Host {
    Host {
        name: name.into(),
        line,
        mac: [2, 0, 0, 0, 0, last],
        ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
        vlan,
        mss: 1460,
        rate_bps: 25_000_000_000,
        latency: Duration::from_micros(latency),
        window: 65535,
    }
}

const EXAMPLE: &str = "# Four 64 KiB one-shot writes, then a read, between two hosts on VLAN 100.
seed 7
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1 vlan 100
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2 vlan 100 latency 5us
profile encoding ddp-flags placement appended
conn c1 h1:49152 -> h2:3260 iwarp mpa 2 ird 16 ord 16 crc on depth 4
repeat 4 {
    write 64K flow oneshot
}
read 4096 flow oneshot fault close-wrong-itt
";

fn example_scenario() -> Scenario {
    Scenario {
        seed: 7,
        hosts: vec![
            host("h1", 3, 1, Some(100), 2),
            host("h2", 4, 2, Some(100), 5),
        ],
        conns: vec![Conn {
            name: "c1".into(),
            line: 6,
            initiator: 0,
            initiator_port: 49152,
            target: 1,
            target_port: 3260,
            kind: ConnKind::Iwarp(MpaSettings {
                revision: 2,
                ird: 16,
                ord: 16,
                p2p: None,
                markers: Markers::None,
                crc: true,
                private_data: vec![],
                reject: false,
            }),
            depth: 4,
        }],
        oneshot: OneShotProfile {
            encoding: Encoding::DdpFlags,
            placement: Placement::Appended,
        },
        steps: vec![
            Step::Repeat {
                line: 7,
                count: 4,
                body: vec![Step::Command {
                    line: 8,
                    conn: 0,
                    action: Action::Write {
                        size: 65536,
                        flow: Flow::OneShot,
                        stag: None,
                    },
                    faults: vec![],
                }],
            },
            Step::Command {
                line: 10,
                conn: 0,
                action: Action::Read {
                    size: 4096,
                    flow: Flow::OneShot,
                    stag: None,
                },
                faults: vec![Fault::CloseWrongItt],
            },
        ],
        rate_faults: vec![],
        mutate: None,
        snaplen: None,
        capture_from: None,
    }
}

#[test]
fn grammar_example() {
    assert_eq!(parse(EXAMPLE), Ok(example_scenario()));
}

#[test]
fn crlf_tabs_bom_and_comments() {
    let crlf = format!("\u{feff}{}", EXAMPLE.replace('\n', "\r\n"));
    assert_eq!(parse(&crlf), Ok(example_scenario()));
    let tabs = EXAMPLE.replace(' ', "\t\t").replace("    ", "\t");
    assert_eq!(parse(&tabs), Ok(example_scenario()));
    let commented = EXAMPLE
        .lines()
        .map(|l| format!("{l}   # note \"with quotes\" {{ }}"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(parse(&commented), Ok(example_scenario()));
    // No final newline.
    assert_eq!(parse(EXAMPLE.trim_end()), Ok(example_scenario()));
}

#[test]
fn empty_script_has_the_defaults() {
    let sc = parse("\n  \n# nothing\n\t\n").unwrap();
    assert_eq!(sc.seed, 1);
    assert_eq!(sc.oneshot, OneShotProfile::default());
    assert_eq!(sc.oneshot.encoding, Encoding::Opcode);
    assert_eq!(sc.oneshot.placement, Placement::RsvdUlp);
    assert!(sc.hosts.is_empty() && sc.conns.is_empty() && sc.steps.is_empty());
    assert!(sc.rate_faults.is_empty());
    assert_eq!((sc.mutate, sc.snaplen), (None, None));
    assert_eq!(parse("").unwrap(), sc);
}

#[test]
fn host_defaults_and_options() {
    let sc = parse(PRE).unwrap();
    assert_eq!(sc.hosts[0], host("h1", 1, 1, None, 2));
    let sc = parse(
        "host a mac 0A:0b:0C:0d:0E:0f ip fd00::1 vlan 4094 mss 9000 rate 100M latency 1.5ms window 1\n\
         host b mac 02:00:00:00:00:02 ip fd00::2 vlan 1 mss 536 rate 2.5G latency 0ns window 65535\n\
         host c mac 02:00:00:00:00:03 ip ::ffff:10.0.0.1 rate 1K latency 3s\n\
         host d mac 02:00:00:00:00:04 ip 10.0.0.4 latency 250ns\n",
    )
    .unwrap();
    let a = &sc.hosts[0];
    assert_eq!(a.mac, [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);
    assert_eq!(a.ip, IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)));
    assert_eq!(
        (a.vlan, a.mss, a.rate_bps, a.latency, a.window),
        (
            Some(4094),
            9000,
            100_000_000,
            Duration::from_micros(1500),
            1
        )
    );
    let b = &sc.hosts[1];
    assert_eq!(
        (b.vlan, b.mss, b.rate_bps, b.latency, b.window),
        (Some(1), 536, 2_500_000_000, Duration::ZERO, 65535)
    );
    let c = &sc.hosts[2];
    assert_eq!(
        (c.mss, c.rate_bps),
        (1440, 1000),
        "IPv6 hosts default to MSS 1440"
    );
    assert_eq!(c.latency, Duration::from_secs(3));
    assert_eq!(sc.hosts[3].latency, Duration::from_nanos(250));
    assert_eq!(sc.hosts[3].mss, 1460);
}

#[test]
fn ipv6_conn() {
    let sc = parse(
        "host a mac 02:00:00:00:00:01 ip fd00::1\n\
         host b mac 02:00:00:00:00:02 ip fe80::2\n\
         conn c a:1 -> b:65535 iscsi depth 1024\n",
    )
    .unwrap();
    let c = &sc.conns[0];
    assert_eq!((c.initiator, c.initiator_port), (0, 1));
    assert_eq!((c.target, c.target_port), (1, 65535));
    assert_eq!((c.kind.clone(), c.depth), (ConnKind::Iscsi, 1024));
}

#[test]
fn conn_defaults_and_options() {
    let sc = parse(PRE).unwrap();
    assert_eq!(sc.conns[0].kind, ConnKind::Iscsi);
    assert_eq!(sc.conns[0].depth, 1);
    assert_eq!(
        mpa(&sc, 1),
        MpaSettings {
            revision: 2,
            ird: 16,
            ord: 16,
            p2p: None,
            markers: Markers::None,
            crc: true,
            private_data: vec![],
            reject: false,
        }
    );
    let more = |opts: &str| {
        let sc = parse(&format!("{PRE}conn c3 h2:1->h1:2 iwarp {opts}")).unwrap();
        let c = sc.conns[2].clone();
        assert_eq!((c.initiator, c.target, c.line), (1, 0, 5));
        mpa(&sc, 2)
    };
    let m = more("mpa 2 ird 0 ord 16383 p2p read markers both crc off private \"hi #1\" reject");
    assert_eq!((m.revision, m.ird, m.ord), (2, 0, 16383));
    assert_eq!(
        (m.p2p, m.markers, m.crc),
        (Some(Rtr::Read), Markers::Both, false)
    );
    assert_eq!((m.private_data.as_slice(), m.reject), (&b"hi #1"[..], true));
    assert_eq!(more("p2p send").p2p, Some(Rtr::Send));
    assert_eq!(more("p2p write").p2p, Some(Rtr::Write));
    assert_eq!(more("markers none").markers, Markers::None);
    assert_eq!(more("markers to-target").markers, Markers::ToTarget);
    assert_eq!(more("markers to-initiator").markers, Markers::ToInitiator);
    assert!(more("crc on").crc);
    assert_eq!(more("private 0x00ff10").private_data, vec![0, 0xff, 0x10]);
    assert_eq!(more("private \"\"").private_data, Vec::<u8>::new());
    let m = more("mpa 1 markers to-initiator crc off");
    assert_eq!(
        (m.revision, m.markers, m.crc),
        (1, Markers::ToInitiator, false)
    );
    let long = format!("private \"{}\"", "x".repeat(508));
    assert_eq!(more(&long).private_data.len(), 508);
    let long = format!("private 0x{}", "ab".repeat(508));
    assert_eq!(more(&long).private_data.len(), 508);
    let sc = parse(&format!("{PRE}conn c3 h2:1->h1:2 iwarp depth 7 mpa 1")).unwrap();
    assert_eq!(sc.conns[2].depth, 7);
}

#[test]
fn profile_and_globals() {
    let sc = parse(
        "seed 0x10\nprofile placement appended\nfault crc rate 0.01\nfault split 1 rate 1\n\
         fault snaplen 60 rate 0.5\nmutate rate 0.05\nsnaplen 54\n",
    )
    .unwrap();
    assert_eq!(sc.seed, 16);
    assert_eq!(sc.oneshot.encoding, Encoding::Opcode);
    assert_eq!(sc.oneshot.placement, Placement::Appended);
    assert_eq!(
        sc.rate_faults,
        vec![
            RateFault {
                fault: Fault::Crc,
                rate: 0.01,
                line: 3
            },
            RateFault {
                fault: Fault::Split(Some(1)),
                rate: 1.0,
                line: 4
            },
            RateFault {
                fault: Fault::Snaplen(60),
                rate: 0.5,
                line: 5
            },
        ]
    );
    assert_eq!(sc.mutate, Some(0.05));
    assert_eq!(sc.snaplen, Some(54));
    assert_eq!(parse("snaplen 65535").unwrap().snaplen, Some(65535));
    assert_eq!(parse("capture from 5").unwrap().capture_from, Some(5));
    assert_eq!(parse("").unwrap().capture_from, None);
    assert_eq!(parse("seed 18446744073709551615").unwrap().seed, u64::MAX);
    assert_eq!(parse("profile").unwrap().oneshot, OneShotProfile::default());
    let p = parse("profile encoding opcode placement rsvdulp")
        .unwrap()
        .oneshot;
    assert_eq!(p, OneShotProfile::default());
}

#[test]
fn storage_commands() {
    let w = |size, flow| {
        (
            Action::Write {
                size,
                flow,
                stag: None,
            },
            vec![],
        )
    };
    assert_eq!(action("write 64K"), w(65536, Flow::OneShot));
    assert_eq!(
        action("write 1 flow conventional"),
        w(1, Flow::Conventional)
    );
    assert_eq!(action("write 4294967295"), w(u32::MAX, Flow::OneShot));
    assert_eq!(action("write 4095MiB"), w(4095 << 20, Flow::OneShot));
    assert_eq!(action("write 0x1000"), w(4096, Flow::OneShot));
    assert_eq!(
        action("write 4K stag 0xc0ffee"),
        (
            Action::Write {
                size: 4096,
                flow: Flow::OneShot,
                stag: Some(0x00c0_ffee),
            },
            vec![]
        ),
        "a fixed STag for the advertise"
    );
    assert_eq!(
        action("read 8K stag 7 flow conventional fault never-close"),
        (
            Action::Read {
                size: 8192,
                flow: Flow::Conventional,
                stag: Some(7),
            },
            vec![Fault::NeverClose]
        ),
        "a fixed STag for the iSER header"
    );
    assert_eq!(
        action("read 1M on c2"),
        (
            Action::Read {
                size: 1 << 20,
                flow: Flow::IscsiTcp,
                stag: None,
            },
            vec![]
        ),
        "an iscsi conn defaults to the iscsi-tcp flow"
    );
    assert_eq!(
        action("read 2KiB flow iscsi-tcp on c2 fault loss fault reorder"),
        (
            Action::Read {
                size: 2048,
                flow: Flow::IscsiTcp,
                stag: None,
            },
            vec![Fault::Loss, Fault::Reorder]
        )
    );
}

#[test]
fn every_fault() {
    let all = "fault crc fault loss fault reorder fault duplicate fault split fault split 1 \
               fault close-wrong-stag fault close-wrong-itt fault close-unadvertised \
               fault never-close fault both-bits fault bit-on-write fault bad-mpa-key \
               fault ulpdu-length fault snaplen 60";
    let (_, faults) = action(&format!("write 4K {all}"));
    use Fault::*;
    assert_eq!(
        faults,
        vec![
            Crc,
            Loss,
            Reorder,
            Duplicate,
            Split(None),
            Split(Some(1)),
            CloseWrongStag,
            CloseWrongItt,
            CloseUnadvertised,
            NeverClose,
            BothBits,
            BitOnWrite,
            BadMpaKey,
            UlpduLengthBeyond,
            Snaplen(60)
        ]
    );
    // Per-command "fault crc" is not a rate fault.
    let sc = parse(&format!("{PRE}write 4K fault crc")).unwrap();
    assert!(sc.rate_faults.is_empty());
}

#[test]
fn raw_commands() {
    use Side::*;
    assert_eq!(
        action("send 100").0,
        Action::Send {
            size: 100,
            from: Initiator,
            solicited: false,
            invalidate: None
        }
    );
    assert_eq!(
        action("send 1K se inv 0xdeadbeef from target on c1 fault split 3").0,
        Action::Send {
            size: 1024,
            from: Target,
            solicited: true,
            invalidate: Some(0xdead_beef)
        }
    );
    assert_eq!(
        action("rdma-write 8 stag 0xdeadbeef to 0x1000 from initiator"),
        (
            Action::RdmaWrite {
                size: 8,
                from: Initiator,
                stag: Some(0xdead_beef),
                to: 0x1000
            },
            vec![]
        )
    );
    assert_eq!(
        action("rdma-write 8").0,
        Action::RdmaWrite {
            size: 8,
            from: Initiator,
            stag: None,
            to: 0
        }
    );
    assert_eq!(
        action("rdma-read 64K sink 1 source 4294967295 from target fault crc"),
        (
            Action::RdmaRead {
                size: 65536,
                from: Target,
                sink: Some(1),
                source: Some(u32::MAX)
            },
            vec![Fault::Crc]
        )
    );
    assert_eq!(
        action("terminate").0,
        Action::Terminate {
            from: Initiator,
            layer: 0,
            etype: 0,
            code: 0
        }
    );
    assert_eq!(
        action("terminate layer 1 etype 2 code 0xff from target").0,
        Action::Terminate {
            from: Target,
            layer: 1,
            etype: 2,
            code: 255
        }
    );
    assert_eq!(
        action("immediate").0,
        Action::Immediate {
            data: 0,
            solicited: false,
            from: Initiator
        }
    );
    assert_eq!(
        action("immediate 0x0123456789abcdef se from target").0,
        Action::Immediate {
            data: 0x0123_4567_89ab_cdef,
            solicited: true,
            from: Target
        }
    );
    assert_eq!(
        action("atomic fetch-add 5").0,
        Action::Atomic {
            op: AtomicOp::FetchAdd { add: 5 },
            from: Initiator,
            stag: None,
            to: 0
        }
    );
    assert_eq!(
        action("atomic cmp-swap 0 0xffffffffffffffff stag 7 to 0x18 from target on c1").0,
        Action::Atomic {
            op: AtomicOp::CmpSwap {
                compare: 0,
                swap: u64::MAX
            },
            from: Target,
            stag: Some(7),
            to: 0x18
        }
    );
    assert_eq!(
        action("pause 10us").0,
        Action::Pause(Duration::from_micros(10))
    );
    assert_eq!(
        action("pause 1s on c2").0,
        Action::Pause(Duration::from_secs(1))
    );
}

#[test]
fn commands_use_the_last_conn_unless_told() {
    assert_eq!(conn_of("write 1"), 1);
    assert_eq!(conn_of("write 1 on c2"), 0);
    assert_eq!(conn_of("pause 1ms on c2"), 0);
    // The last conn declared *before* the command.
    let sc = parse(&format!(
        "{PRE}write 1\nconn c3 h2:9->h1:9 iscsi\nwrite 1\n"
    ))
    .unwrap();
    let conns: Vec<usize> = sc
        .steps
        .iter()
        .map(|s| match s {
            Step::Command { conn, .. } => *conn,
            _ => usize::MAX,
        })
        .collect();
    assert_eq!(conns, vec![1, 2]);
}

#[test]
fn nested_repeat() {
    let sc = parse(&format!(
        "{PRE}repeat 2 {{\n  write 1\n  repeat 0x3 {{ # inner\n    pause 1us\n\n    read 2\n  }}\n}}\nrepeat 1{{\n}}\n"
    ))
    .unwrap();
    let cmd = |line, action| Step::Command {
        line,
        conn: 1,
        action,
        faults: vec![],
    };
    assert_eq!(
        sc.steps,
        vec![
            Step::Repeat {
                line: 5,
                count: 2,
                body: vec![
                    cmd(
                        6,
                        Action::Write {
                            size: 1,
                            flow: Flow::OneShot,
                            stag: None,
                        }
                    ),
                    Step::Repeat {
                        line: 7,
                        count: 3,
                        body: vec![
                            cmd(8, Action::Pause(Duration::from_micros(1))),
                            cmd(
                                10,
                                Action::Read {
                                    size: 2,
                                    flow: Flow::OneShot,
                                    stag: None,
                                }
                            ),
                        ],
                    },
                ],
            },
            Step::Repeat {
                line: 13,
                count: 1,
                body: vec![]
            },
        ]
    );
}
