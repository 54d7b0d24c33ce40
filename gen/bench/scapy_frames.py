#!/usr/bin/env python3
"""The scapy comparison for gen-bench.sh: the frames of one-shot 64 KiB writes, built with scapy.

For every write it builds the same 72 frames, in the same order and with the same layout, as
`oneshot-gen` writes for `write 64K` on an `iwarp` connection with the default MSS of 1460:

  initiator -> target  advertise Send (DDP untagged 0x41, RDMAP 0x48, STag, 48-octet BHS)   72 octets of TCP payload
  target -> initiator  RDMA Read Request (0x41, 0x41, QN 1, sink/source STag, TO, size)      52
  initiator -> target  46 RDMA Read Responses (DDP tagged 0x81, 0xC1 on the last; RDMAP 0x42;
                       STag u32, TO u64, 1440 octets of a random 64 KiB block; 736 on the last)
  target -> initiator  23 ACKs (one every two Read Responses)
  target -> initiator  close Send (0x41, 0x4c, STag, 48-octet SCSI Response BHS)             72

Every FPDU is built in Python exactly as the generator builds it: ULPDU_Length (u16 BE), the
DDP/RDMAP header, the payload, zero pad to a multiple of 4, and the CRC-32C of everything before
the CRC field, written least-significant octet first (the `crc32c` C extension; `google-crc32c`
as a fallback). Each frame is Ether()/IP()/TCP(flags="PA")/Raw(fpdu); scapy computes the IP and
TCP checksums when the frame is turned into bytes (`bytes(pkt)`, once per frame), and
scapy.utils.PcapWriter (sync=False) writes it. The capture starts with SYN, SYN/ACK and an MPA
Request/Reply pair (so that tshark decodes and checks the FPDUs) and ends with FIN, FIN, ACK.

Usage:
  scapy_frames.py selftest                   CRC-32C against RFC 3720 B.4's vectors
  scapy_frames.py bench [--writes N] [--runs R] [-w OUT]
                                             time R runs of N writes; one line per run:
                                             "run I frames F bytes B seconds S"
  scapy_frames.py compare GEN.pcap           rebuild every frame of an oneshot-gen capture from its
                                             header fields with the builders below (FPDUs and
                                             CRCs in Python, checksums by scapy) and compare bytes
"""

import argparse
import logging
import os
import struct
import sys
import time

logging.getLogger("scapy").setLevel(logging.ERROR)

try:
    from crc32c import crc32c as _crc32c

    CRC_IMPL = "crc32c"
except ImportError:  # pragma: no cover - fallback
    import google_crc32c

    def _crc32c(data):
        return google_crc32c.value(bytes(data))

    CRC_IMPL = "google-crc32c"

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapWriter, rdpcap

DLT_EN10MB = 1
MSS = 1460
# ULPDU_Length (2) + tagged DDP/RDMAP header (14) + CRC (4): 1440 payload octets per full frame.
TAGGED_HDR = 14
UNTAGGED_HDR = 18
RR_CHUNK = MSS - 2 - TAGGED_HDR - 4

H1 = dict(mac="02:00:00:00:00:01", ip="10.0.0.1", port=49152)
H2 = dict(mac="02:00:00:00:00:02", ip="10.0.0.2", port=3260)


# --- MPA / DDP / RDMAP, as the generator lays them out -------------------------------------------


def crc_field(data):
    """The MPA CRC field: CRC-32C of `data`, least-significant octet first (RFC 5044 / 3720)."""
    return _crc32c(data).to_bytes(4, "little")


def fpdu(ulpdu):
    """ULPDU_Length (u16 BE) + ULPDU + zero pad to a multiple of 4 + CRC-32C."""
    n = len(ulpdu)
    body = struct.pack(">H", n) + ulpdu + b"\0" * (-(2 + n) % 4)
    return body + crc_field(body)


def tagged(ddp_ctrl, rdmap_ctrl, stag, to, payload):
    """DDP tagged header (control, RDMAP control, STag u32, TO u64) + payload."""
    return struct.pack(">BBIQ", ddp_ctrl, rdmap_ctrl, stag, to) + payload


def untagged(ddp_ctrl, rdmap_ctrl, rsvdulp, qn, msn, mo, payload):
    """DDP untagged header (control, RDMAP control, RsvdULP/STag u32, QN, MSN, MO) + payload."""
    return struct.pack(">BBIIII", ddp_ctrl, rdmap_ctrl, rsvdulp, qn, msn, mo) + payload


def scsi_write_bhs(itt, length, cmdsn):
    """iSCSI SCSI Command BHS (48 octets): WRITE(10) of `length` octets at LBA 256 * cmdsn."""
    cdb = struct.pack(">BBIBHB", 0x2A, 0, cmdsn << 8, 0, length // 512, 0).ljust(16, b"\0")
    return struct.pack(">BBHI8sIIII", 0x01, 0xA1, 0, 0, b"\0" * 8, itt, length, cmdsn, cmdsn) + cdb


def scsi_response_bhs(itt, statsn, expcmdsn):
    """iSCSI SCSI Response BHS (48 octets), status GOOD."""
    return struct.pack(
        ">BBBBI8sIIIII", 0x21, 0x80, 0, 0, 0, b"\0" * 8, itt, 0, statsn, expcmdsn, expcmdsn + 31
    ).ljust(48, b"\0")


def mpa_frame(key, private):
    """MPA Request/Reply frame, revision 2, no markers, CRC on."""
    return key + struct.pack(">BBH", 0x40, 2, len(private)) + private


MPA_REQ_KEY = b"MPA ID Req Frame"
MPA_REP_KEY = b"MPA ID Rep Frame"
# RFC 6581 enhanced connection setup: IRD 16, ORD 16.
MPA_PRIVATE = bytes.fromhex("00100010")


# --- frames ---------------------------------------------------------------------------------------


class Conn:
    """Both directions of one TCP connection: sequence numbers and frame building."""

    def __init__(self, writer, t0=1767225600.0):
        self.w = writer
        self.seq = {1: 0x71C18690, 2: 0x71BB54D8}  # next sequence number sent by host 1 / host 2
        self.t = t0
        self.frames = 0
        self.octets = 24  # the pcap file header

    def emit(self, frm, flags, payload=b"", options=None, seq_add=0):
        src, dst = (H1, H2) if frm == 1 else (H2, H1)
        peer = 2 if frm == 1 else 1
        tcp = TCP(
            sport=src["port"],
            dport=dst["port"],
            seq=self.seq[frm],
            ack=self.seq[peer] if "A" in flags else 0,
            flags=flags,
            window=65535,
            options=options or [],
        )
        pkt = Ether(src=src["mac"], dst=dst["mac"]) / IP(src=src["ip"], dst=dst["ip"], id=0, flags="DF", ttl=64) / tcp
        if payload:
            pkt = pkt / Raw(payload)
        raw = bytes(pkt)  # scapy fills in lengths and the IP and TCP checksums here
        self.seq[frm] = (self.seq[frm] + len(payload) + seq_add) & 0xFFFFFFFF
        self.t += 1e-6
        sec = int(self.t)
        self.w.write_packet(raw, sec=sec, usec=int((self.t - sec) * 1e6))
        self.frames += 1
        self.octets += 16 + len(raw)

    def open(self):
        self.emit(1, "S", options=[("MSS", MSS)], seq_add=1)
        self.emit(2, "SA", options=[("MSS", MSS)], seq_add=1)
        self.emit(1, "PA", mpa_frame(MPA_REQ_KEY, MPA_PRIVATE))
        self.emit(2, "PA", mpa_frame(MPA_REP_KEY, MPA_PRIVATE))

    def close(self):
        self.emit(1, "FA", seq_add=1)
        self.emit(2, "FA", seq_add=1)
        self.emit(1, "A")

    def oneshot_write(self, n, block):
        """One one-shot write of len(block) octets: the command's 72 frames."""
        size = len(block)
        src_stag = 0x100 + 0xF * n  # the initiator's advertised buffer
        sink_stag = 0x00100000 | (0x16C + n)  # the target's landing buffer
        itt = 0xBF0 + n
        # advertise Send: DDP untagged, L, DV; RDMAP v1 opcode 0x8 (one-shot Send with advertise)
        self.emit(1, "PA", fpdu(untagged(0x41, 0x48, src_stag, 0, n, 0, scsi_write_bhs(itt, size, n))))
        # RDMA Read Request (QN 1)
        rr = struct.pack(">IQIIQ", sink_stag, 0, size, src_stag, 0)
        self.emit(2, "PA", fpdu(untagged(0x41, 0x41, 0, 1, n, 0, rr)))
        # RDMA Read Responses: DDP tagged (0x81, 0xC1 on the last), RDMAP 0x42; ACK every second
        mv = memoryview(block)
        count = 0
        for to in range(0, size, RR_CHUNK):
            chunk = mv[to : to + RR_CHUNK]
            last = to + RR_CHUNK >= size
            self.emit(1, "PA", fpdu(tagged(0xC1 if last else 0x81, 0x42, sink_stag, to, bytes(chunk))))
            count += 1
            if count % 2 == 0 or last:
                self.emit(2, "A")
        # close Send from the target: RDMAP opcode 0xC (one-shot Send with close)
        self.emit(2, "PA", fpdu(untagged(0x41, 0x4C, src_stag, 0, n, 0, scsi_response_bhs(itt, n, n + 1))))


def build(out, writes, size=64 * 1024):
    """Writes a capture of `writes` one-shot writes to `out`; returns (frames, octets)."""
    w = PcapWriter(out, linktype=DLT_EN10MB, sync=False)
    w.write_header(None)  # write_packet(), unlike write(), does not write it by itself
    c = Conn(w)
    c.open()
    for n in range(1, writes + 1):
        c.oneshot_write(n, os.urandom(size))
    c.close()
    w.close()
    return c.frames, c.octets


# --- commands -------------------------------------------------------------------------------------

# RFC 3720 B.4: (data, CRC field octets as transmitted)
CRC_VECTORS = [
    (bytes(32), "aa36918a"),
    (b"\xff" * 32, "43aba862"),
    (bytes(range(32)), "4e79dd46"),
    (bytes(range(31, -1, -1)), "5cdb3f11"),
]


def selftest():
    ok = True
    for data, want in CRC_VECTORS:
        got = crc_field(data).hex()
        ok &= got == want
        print(f"crc32c({data[:4].hex()}..., {len(data)} octets) = {got} (RFC 3720: {want}) "
              f"{'ok' if got == want else 'WRONG'}")
    print(f"CRC implementation: {CRC_IMPL}")
    return 0 if ok else 1


def bench(args):
    for i in range(1, args.runs + 1):
        t0 = time.perf_counter()
        frames, octets = build(args.out, args.writes)
        dt = time.perf_counter() - t0
        if args.out != "/dev/null":
            size = os.path.getsize(args.out)
            if size != octets:
                print(f"size mismatch: counted {octets}, file has {size}", file=sys.stderr)
                return 1
        print(f"run {i} frames {frames} bytes {octets} seconds {dt:.6f}", flush=True)
    return 0


def compare(path):
    """Rebuilds each frame of an oneshot-gen capture from its fields; counts byte-equal frames."""
    total = same = fpdus = 0
    first_bad = None
    for p in rdpcap(path):
        total += 1
        orig = bytes(p)
        ip, tcp = p[IP], p[TCP]
        payload = bytes(tcp.payload)
        if len(payload) >= 8 and not payload.startswith(b"MPA ID "):
            (n,) = struct.unpack_from(">H", payload)
            ulpdu = payload[2 : 2 + n]
            ctrl, rdmap = ulpdu[0], ulpdu[1]
            if ctrl & 0x80:
                stag, to = struct.unpack_from(">IQ", ulpdu, 2)
                payload = fpdu(tagged(ctrl, rdmap, stag, to, ulpdu[TAGGED_HDR:]))
            else:
                rsvd, qn, msn, mo = struct.unpack_from(">IIII", ulpdu, 2)
                payload = fpdu(untagged(ctrl, rdmap, rsvd, qn, msn, mo, ulpdu[UNTAGGED_HDR:]))
            fpdus += 1
        rebuilt = Ether(src=p.src, dst=p.dst) / IP(
            src=ip.src, dst=ip.dst, id=ip.id, flags=ip.flags, ttl=ip.ttl, tos=ip.tos
        ) / TCP(
            sport=tcp.sport, dport=tcp.dport, seq=tcp.seq, ack=tcp.ack, flags=tcp.flags,
            window=tcp.window, options=tcp.options, urgptr=tcp.urgptr,
        )
        if payload:
            rebuilt = rebuilt / Raw(payload)
        if bytes(rebuilt) == orig:
            same += 1
        elif first_bad is None:
            first_bad = total
    print(f"compare {path}: {same}/{total} frames byte-identical when rebuilt with scapy "
          f"({fpdus} FPDUs rebuilt from their DDP/RDMAP fields, CRCs in Python)")
    if first_bad is not None:
        print(f"first differing frame: {first_bad}")
    return 0 if same == total else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("selftest")
    b = sub.add_parser("bench")
    b.add_argument("--writes", type=int, default=200)
    b.add_argument("--runs", type=int, default=1)
    b.add_argument("-w", dest="out", default="/dev/null")
    c = sub.add_parser("compare")
    c.add_argument("pcap")
    a = ap.parse_args()
    if a.cmd == "selftest":
        return selftest()
    if a.cmd == "bench":
        return bench(a)
    return compare(a.pcap)


if __name__ == "__main__":
    sys.exit(main())
