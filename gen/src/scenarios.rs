//! Built-in scenarios, so that a first run needs no script: `oneshot-gen --list`,
//! `oneshot-gen --scenario oneshot-write -w out.pcapng`. Each is a script like any other.

/// Two hosts and an iWARP connection, used by most built-ins.
const HOSTS: &str = "\
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
";

/// One built-in scenario.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Name for `--scenario`.
    pub name: &'static str,
    /// One line for `--list`.
    pub about: &'static str,
    /// The script body (after the standard hosts).
    pub body: &'static str,
}

/// Every built-in scenario.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "oneshot-write",
        about: "one 64 KiB one-shot write (FIG. 4): advertise, RDMA Read, close",
        body: "conn c1 h1:49152 -> h2:3260 iwarp\nwrite 64K flow oneshot\n",
    },
    Builtin {
        name: "oneshot-read",
        about: "one 64 KiB one-shot read: advertise, RDMA Writes, close",
        body: "conn c1 h1:49152 -> h2:3260 iwarp\nread 64K flow oneshot\n",
    },
    Builtin {
        name: "conventional-write",
        about: "the same write the conventional way (FIG. 3): iSER Send, RDMA Read, iSER Send",
        body: "conn c1 h1:49152 -> h2:3260 iwarp\nwrite 64K flow conventional\n",
    },
    Builtin {
        name: "conventional-read",
        about: "a conventional iSER read: iSER Send, RDMA Writes, iSER Send",
        body: "conn c1 h1:49152 -> h2:3260 iwarp\nread 64K flow conventional\n",
    },
    Builtin {
        name: "iscsi-tcp-write",
        about: "the same write over iSCSI/TCP (FIG. 2): Command, R2T, Data-Out, Response",
        body: "conn c1 h1:49152 -> h2:3260 iscsi\nwrite 64K flow iscsi-tcp\n",
    },
    Builtin {
        name: "iscsi-tcp-read",
        about: "an iSCSI/TCP read: Command, Data-In, Response",
        body: "conn c1 h1:49152 -> h2:3260 iscsi\nread 64K flow iscsi-tcp\n",
    },
    Builtin {
        name: "compare",
        about: "a 64 KiB write and read in each of the three flows, side by side",
        body: "conn rdma h1:49152 -> h2:3260 iwarp\n\
               conn tcp h1:49153 -> h2:3261 iscsi\n\
               write 64K flow oneshot on rdma\n\
               read 64K flow oneshot on rdma\n\
               write 64K flow conventional on rdma\n\
               read 64K flow conventional on rdma\n\
               write 64K flow iscsi-tcp on tcp\n\
               read 64K flow iscsi-tcp on tcp\n",
    },
    Builtin {
        name: "oneshot-ddp-flags",
        about: "one-shot with the ddp-flags encoding and the appended STag placement",
        body: "profile encoding ddp-flags placement appended\n\
               conn c1 h1:49152 -> h2:3260 iwarp\n\
               write 16K flow oneshot\nread 16K flow oneshot\n",
    },
    Builtin {
        name: "markers",
        about: "markers in both directions, several FPDUs per segment, queue depth 4",
        body: "conn c1 h1:49152 -> h2:3260 iwarp markers both depth 4\n\
               repeat 8 {\n    write 4K flow oneshot\n}\n",
    },
    Builtin {
        name: "faults",
        about: "one command per fault: CRC, loss, reordering, split FPDU, wrong close, leak",
        body: "conn c1 h1:49152 -> h2:3260 iwarp\n\
               write 8K fault crc\n\
               write 8K fault loss\n\
               write 8K fault reorder\n\
               write 8K fault split 1\n\
               write 8K fault close-wrong-stag\n\
               write 8K fault close-wrong-itt\n\
               write 8K fault never-close\n\
               write 8K fault both-bits\n",
    },
    Builtin {
        name: "raw-verbs",
        about: "Send, RDMA Write, RDMA Read, Immediate Data, Atomics, then a Terminate",
        body: "conn c1 h1:49152 -> h2:3260 iwarp\n\
               send 128 se\n\
               rdma-write 4K\n\
               rdma-read 4K\n\
               immediate 0x0102030405060708 se\n\
               atomic fetch-add 1\n\
               atomic cmp-swap 1 2\n\
               terminate layer 0 etype 2 code 6\n",
    },
];

/// The script of built-in `name`.
pub fn script(name: &str) -> Option<String> {
    BUILTINS.iter().find(|b| b.name == name).map(|b| {
        format!(
            "# built-in scenario {}: {}\n{HOSTS}{}",
            b.name, b.about, b.body
        )
    })
}

/// The names, comma-separated.
pub fn names() -> String {
    BUILTINS
        .iter()
        .map(|b| b.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for b in BUILTINS {
            let s = script(b.name).unwrap();
            crate::script::parse(&s).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        }
        assert!(script("nope").is_none());
    }
}
