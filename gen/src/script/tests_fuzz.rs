//! The rich script of every statement parses, and mutations of it never make the parser panic.

use super::parse;

/// A deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const RICH: &str = "seed 7
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1 vlan 100 mss 1400 rate 10G latency 1.5us window 4096
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2 vlan 100 latency 5us
host h3 mac 02:00:00:00:00:03 ip fd00::3
host h4 mac 02:00:00:00:00:04 ip fd00::4
profile encoding ddp-flags placement appended
conn c1 h1:49152 -> h2:3260 iwarp mpa 2 ird 16 ord 16 p2p write markers both crc on private \"hi\" depth 4
conn c2 h3:1 -> h4:3260 iscsi depth 2
conn c3 h1:2 -> h2:3 iwarp mpa 1 private 0x0102 reject
fault crc rate 0.01
mutate rate 0.05
snaplen 54
repeat 4 {
    write 64K flow oneshot fault split 1
    repeat 2 {
        read 1M on c2 fault loss
    }
}
send 1K se inv 0xdeadbeef from target on c1
rdma-write 8 stag 1 to 8
rdma-read 8 sink 1 source 2 fault crc
terminate layer 1 etype 2 code 3
immediate 0x1 se
atomic cmp-swap 1 2 stag 3 to 16
pause 10ms
read 4096 flow oneshot fault close-wrong-itt
";

#[test]
fn rich_script_parses() {
    let sc = parse(RICH).unwrap();
    assert_eq!((sc.hosts.len(), sc.conns.len(), sc.steps.len()), (4, 3, 9));
}

/// Deleting, duplicating, swapping and inserting characters never makes the parser panic, and
/// every error points into the script.
#[test]
fn never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet: Vec<char> = "{}\"#:->0x1aKM. \t\r\n\u{e9}\u{feff}".chars().collect();
    let base: Vec<char> = RICH.chars().collect();
    for round in 0..4000 {
        let mut s = base.clone();
        for _ in 0..1 + rng.below(6) {
            let i = rng.below(s.len());
            match rng.below(5) {
                0 => {
                    s.remove(i);
                }
                1 => {
                    let c = s[i];
                    s.insert(i, c);
                }
                2 => {
                    let j = rng.below(s.len());
                    s.swap(i, j);
                }
                3 => s.insert(i, alphabet[rng.below(alphabet.len())]),
                _ => {
                    // Duplicate or drop a run.
                    let j = (i + rng.below(40)).min(s.len());
                    let run: Vec<char> = s[i..j].to_vec();
                    if round % 2 == 0 {
                        s.splice(i..i, run);
                    } else {
                        s.drain(i..j);
                    }
                }
            }
            if s.is_empty() {
                s.push('x');
            }
        }
        let text: String = s.into_iter().collect();
        if let Err(e) = parse(&text) {
            let lines = text.split('\n').count() as u32;
            assert!(e.line >= 1 && e.line <= lines, "{e}\n{text}");
            assert!(e.col >= 1, "{e}");
            assert!(e.col as usize <= e.source_line.chars().count() + 1, "{e}");
            assert!(!e.message.is_empty() && !e.message.contains('\n'), "{e}");
            let _ = e.render("fuzz.os");
        }
    }
    // Random bytes too (as lossy UTF-8).
    for _ in 0..2000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = parse(&text) {
            let _ = e.to_string();
        }
    }
}
