//! The host model of ONESHOT.md §5: the driver↔NIC crossings each flow costs on each host,
//! named by the patent figures' path numbers, and the JSON-lines trace of them.

use std::io::{self, Write};

use super::FlowKind;
use super::flows::Exchange;

/// One driver↔NIC crossing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interaction {
    /// Path number in the patent's figures (FIG. 2: 1xx-2xx, FIG. 3: 2xx-4xx, FIG. 4: 5xx-6xx).
    pub path: u16,
    /// `initiation` or `completion` (host 1); `service` (host 2).
    pub phase: &'static str,
    /// What crosses.
    pub what: &'static str,
}

const fn i(path: u16, phase: &'static str, what: &'static str) -> Interaction {
    Interaction { path, phase, what }
}

const CONV_H1: &[Interaction] = &[
    i(
        270,
        "initiation",
        "driver asks to pin memory and register a region",
    ),
    i(280, "initiation", "NIC returns the region id"),
    i(290, "initiation", "driver binds a window to the region"),
    i(300, "initiation", "NIC returns the STag"),
    i(
        310,
        "initiation",
        "driver posts the Send carrying the STag in the iSER header",
    ),
    i(
        420,
        "completion",
        "NIC indicates the response Send to the driver",
    ),
    i(
        430,
        "completion",
        "driver unbinds the window (releases the STag)",
    ),
    i(440, "completion", "NIC reports the STag free"),
    i(450, "completion", "driver asks to free the region"),
    i(460, "completion", "NIC reports the region freed"),
];
const CONV_WRITE_H2: &[Interaction] = &[
    i(330, "service", "NIC posts the received Send to the driver"),
    i(
        340,
        "service",
        "driver queues an RDMA Read of the initiator's STag",
    ),
    i(390, "service", "NIC completes the RDMA Read"),
    i(400, "service", "driver posts the response Send"),
];
const CONV_READ_H2: &[Interaction] = &[
    i(330, "service", "NIC posts the received Send to the driver"),
    i(
        340,
        "service",
        "driver queues RDMA Writes into the initiator's STag",
    ),
    i(400, "service", "driver posts the response Send"),
];
const ONESHOT_H1: &[Interaction] = &[
    i(
        500,
        "initiation",
        "driver posts one command: SGL and Send body; STag returned synchronously (510)",
    ),
    i(
        610,
        "completion",
        "NIC completes the close Send carrying S, resources already freed (620)",
    ),
];
const ONESHOT_WRITE_H2: &[Interaction] = &[
    i(
        530,
        "service",
        "NIC posts the Send with the advertised STag to the driver",
    ),
    i(540, "service", "driver posts an RDMA Read of S"),
    i(580, "service", "NIC completes the RDMA Read"),
    i(590, "service", "driver posts the Send with close of S"),
];
const ONESHOT_READ_H2: &[Interaction] = &[
    i(
        530,
        "service",
        "NIC posts the Send with the advertised STag to the driver",
    ),
    i(540, "service", "driver posts RDMA Writes into S"),
    i(590, "service", "driver posts the Send with close of S"),
];
const ISCSI_H1: &[Interaction] = &[
    i(
        100,
        "initiation",
        "driver writes the command to the command ring; NIC reads it (110)",
    ),
    i(
        250,
        "completion",
        "NIC writes the status to the completion queue; driver reads it (260)",
    ),
];
const ISCSI_WRITE_H2: &[Interaction] = &[
    i(130, "service", "NIC passes the write command to the driver"),
    i(
        150,
        "service",
        "driver posts the pull of the data into its buffers",
    ),
    i(200, "service", "NIC completes the pull"),
    i(220, "service", "driver posts the status"),
];
const ISCSI_READ_H2: &[Interaction] = &[
    i(130, "service", "NIC passes the read command to the driver"),
    i(150, "service", "driver posts the push of the data"),
    i(220, "service", "driver posts the status"),
];
const RAW_SENDER: &[Interaction] = &[
    i(0, "initiation", "driver posts the work request"),
    i(0, "completion", "NIC completes the work request"),
];
const RAW_RECEIVER: &[Interaction] = &[i(0, "service", "NIC indicates the message to the driver")];
const RAW_NONE: &[Interaction] = &[];

/// The crossings of one command of `kind`: host 1 (initiator), host 2 (target).
pub fn interactions(kind: FlowKind) -> (&'static [Interaction], &'static [Interaction]) {
    match kind {
        FlowKind::OneShotWrite => (ONESHOT_H1, ONESHOT_WRITE_H2),
        FlowKind::OneShotRead => (ONESHOT_H1, ONESHOT_READ_H2),
        FlowKind::ConventionalWrite => (CONV_H1, CONV_WRITE_H2),
        FlowKind::ConventionalRead => (CONV_H1, CONV_READ_H2),
        FlowKind::IscsiTcpWrite => (ISCSI_H1, ISCSI_WRITE_H2),
        FlowKind::IscsiTcpRead => (ISCSI_H1, ISCSI_READ_H2),
        FlowKind::RdmaWrite | FlowKind::RdmaRead => (RAW_SENDER, RAW_NONE),
        FlowKind::Send | FlowKind::Immediate | FlowKind::Atomic | FlowKind::Terminate => {
            (RAW_SENDER, RAW_RECEIVER)
        }
    }
}

fn json_list(list: &[Interaction], phase: &str) -> serde_json::Value {
    list.iter()
        .filter(|x| x.phase == phase)
        .map(|x| serde_json::json!({"path": x.path, "what": x.what}))
        .collect()
}

/// Writes one JSON line per host for a completed command.
pub fn write_trace(
    w: &mut dyn Write,
    ex: &Exchange,
    kind: FlowKind,
    hosts: [&String; 2],
    duration_ns: u64,
) -> io::Result<()> {
    let (h1, h2) = interactions(kind);
    for (role, host, list) in [("initiator", hosts[0], h1), ("target", hosts[1], h2)] {
        let v = serde_json::json!({
            "command": ex.id,
            "line": ex.line,
            "flow": kind.name(),
            "host": host,
            "role": role,
            "initiation": json_list(list, "initiation"),
            "completion": json_list(list, "completion"),
            "service": json_list(list, "service"),
            "interactions": list.len(),
            "bytes": ex.payload_bytes(),
            "duration_ns": duration_ns,
        });
        writeln!(w, "{v}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ONESHOT.md §5: conventional 5 + 5, one-shot 1 + 1, iSCSI/TCP 1 + 1 on host 1.
    #[test]
    fn host1_counts_match_the_table() {
        let count = |k, phase| {
            interactions(k)
                .0
                .iter()
                .filter(|x| x.phase == phase)
                .count()
        };
        for (k, init, done) in [
            (FlowKind::ConventionalWrite, 5, 5),
            (FlowKind::ConventionalRead, 5, 5),
            (FlowKind::OneShotWrite, 1, 1),
            (FlowKind::OneShotRead, 1, 1),
            (FlowKind::IscsiTcpWrite, 1, 1),
            (FlowKind::IscsiTcpRead, 1, 1),
        ] {
            assert_eq!(
                (count(k, "initiation"), count(k, "completion")),
                (init, done),
                "{k:?}"
            );
        }
    }
}
