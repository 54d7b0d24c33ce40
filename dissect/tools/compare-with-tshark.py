#!/usr/bin/env python3
"""Compare oneshot-dissect's printers with tshark's, capture by capture.

    python3 dissect/tools/compare-with-tshark.py [options] [CAPTURE...]

With no CAPTURE, every `captures/*.pcap*` of the repository is compared. For each capture the
script runs tshark and oneshot-dissect (`--disable-protocol oneshot,iser,iscsi`, so that both
show the payload of the iWARP messages as `data`; `oneshot,iser` for the iSCSI-over-TCP
captures, which tshark decodes as iSCSI) with the same options and compares:

  json     `-T json -x`: the layer trees, parsed (duplicate keys kept, in order) and compared
           node for node: key, value, and the `_raw` array [hex, offset, length, mask, type]
  ek       `-T ek`: each packet's `layers` object, parsed, compared the same way
  ekx      `-T ek -x`: the same with the `_raw` keys
  verbose  `-V`: the text tree, line by line
  hex      `-x`: the hex dump, line by line

Nodes that only tshark produces and that oneshot-dissect leaves out on purpose (DELIBERATE below,
documented in dissect/src/print/mod.rs) are removed from tshark's side before comparing, with
their subtrees; our own fields (those `tshark -G fields` does not list) and our top-level expert
items are removed from ours. Every remaining difference is printed as a unified diff per frame (`-v`) and
counted per layer, so that the summary says which protocol still differs where.

Options:
  --ours PATH         the oneshot-dissect binary (default: target/release/oneshot-dissect)
  --tshark PATH       tshark (default: tshark)
  --formats LIST      comma-separated subset of json,ek,ekx,verbose,hex (default: all)
  --layers LIST       only count and show differences in these layers (default: IN_SCOPE
                      below; `all` for every layer)
  --keep-tcp          also compare what the TCP analysis produces (left out by default: tcp
                      sequence analysis, conversation completeness, option subtrees)
  -v                  print the differing lines of every frame
  --max-frames N      with -v, stop printing a capture's diffs after N frames (default 5)

Exit status: 0 when nothing differs in the selected layers, 1 otherwise, 2 on errors.
"""

import argparse
import difflib
import glob
import json
import os
import re
import subprocess
import sys

# Nodes tshark 4.0 has and oneshot-dissect does not produce, on purpose. Keys are JSON/EK keys
# (EK keys are the JSON key with `.` → `_` and the protocol prefix), matched as whole keys; the
# node goes with its `_raw`/`_tree` companions and its subtree.
DELIBERATE_JSON = [
    # Time shift (tshark's --time-shift); we never shift.
    r"frame\.offset_shift",
    # Name resolution: tshark shows a resolved form even with -n; we print no resolved names.
    r"eth\.(dst|src|addr)_resolved",
    r"eth\.(dst|src|addr)\.oui",
    r"ip\.(src|dst)?_?host",
]
# The TCP analysis and the TCP option subtrees are another part of the project; left out unless
# --keep-tcp.
TCP_ANALYSIS_JSON = [
    r"tcp\.completeness",
    r"tcp\.analysis",
    r"tcp\.pdu\.size",
    r"tcp\.options\.[a-z_]+",
    r"tcp\.option_(kind|len)",
    r"Timestamps",
    r"tcp\.connection\.[a-z_]+",
]
# The same in -V text: the first line of a subtree, as a regex on the stripped line.
DELIBERATE_TEXT = [
    r"\[Time shift for this packet: .*\]",
]
TCP_ANALYSIS_TEXT = [
    r"\[Conversation completeness: .*\]",
    r"\[SEQ/ACK analysis\]",
    r"\[PDU Size: \d+\]",
    r"\[Timestamps\]",
    r"Options: \(\d+ bytes\).*",
    r"\[Expert Info \(Chat/Sequence\): Connection establish.*",
    r"\[Expert Info \(\w+/Sequence\): .*TCP.*",
    r"\[Expert Info \(Note/Sequence\): This frame is a \(suspected\).*",
    r"\[Expert Info \(Warning/Sequence\): Previous segment.*",
    r"\[Expert Info \(Warning/Sequence\): ACKed segment.*",
    r"\[Expert Info \(Chat/Sequence\): Connection finish.*",
    r"\[The RTT to ACK.*\]",
    r"\[iRTT: .*\]",
    r"\[Bytes in flight: .*\]",
    r"\[Bytes sent since last PSH flag: .*\]",
    r"\[This is an ACK to the segment in frame: .*\]",
]

# The layers both decoders decode the same way (the default of --layers; `--layers all` counts
# every layer, iSCSI over TCP and the expert items too).
IN_SCOPE = ["pkt_comment", "frame", "eth", "vlan", "sll", "null", "ip", "ipv6", "tcp",
            "iwarp_mpa", "iwarp_ddp_rdmap", "data", "hex"]

# Set by --keep-tcp: leave the TCP analysis' expert items in.
TCP_EXPERTS = True

DISABLE = ["--disable-protocol", "oneshot,iser,iscsi"]
# iSCSI over plain TCP: tshark decodes it, so ours keeps it on too (its iSCSI layer is a subset
# of tshark's and is not in IN_SCOPE; the frame and TCP layers are).
DISABLE_ISCSI_TCP = ["--disable-protocol", "oneshot,iser"]


def disable_for(cap):
    return DISABLE_ISCSI_TCP if os.path.basename(cap).startswith("iscsi-tcp") else DISABLE


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        sys.exit(f"compare-with-tshark: {' '.join(cmd)} failed ({p.returncode}): "
                 f"{p.stderr.decode(errors='replace').strip()}")
    return p.stdout.decode("utf-8", errors="replace")


def pairs(items):
    """json.load hook keeping duplicate keys and their order."""
    return ("obj", items)


def flatten(value, ignore, depth, out, layer, known=None):
    """Appends (layer, line) for every node under the object `value`, leaving out the keys
    `ignore` matches and, when `known` is given, the keys not in it (our own fields)."""
    _, items = value
    dropped = set()
    for key, _ in items:
        base = re.sub(r"(_raw|_tree)$", "", key)
        if ignore.fullmatch(base) or (known is not None and base not in known):
            dropped.add(key)
        # Our expert findings are top-level items (tshark nests its own under the field).
        if known is not None and depth == 0 and base in ("_ws.expert", "_ws_expert"):
            dropped.add(key)
        # The TCP analysis' expert items, nested under TCP fields.
        if TCP_EXPERTS and layer == "tcp" and base in ("_ws.expert", "_ws_expert"):
            dropped.add(key)
    for key, v in items:
        if key in dropped:
            continue
        lay = layer if layer is not None else re.sub(r"_raw$", "", key)
        pad = "  " * depth
        if isinstance(v, tuple):
            sub = []
            flatten(v, ignore, depth + 1, sub, lay, known)
            # An object left empty by what was dropped goes too (`ip.flags_tree` of a field
            # whose only children are ours).
            if sub or not v[1]:
                out.append((lay, f"{pad}{key}:"))
                out.extend(sub)
        elif isinstance(v, list) and any(isinstance(x, tuple) for x in v):
            # EK: a protocol seen twice in one object is an array of objects.
            out.append((lay, f"{pad}{key}: ["))
            for x in v:
                if isinstance(x, tuple):
                    flatten(x, ignore, depth + 1, out, lay, known)
                    out.append((lay, f"{pad}  ,"))
                else:
                    out.append((lay, f"{pad}  {json.dumps(x, ensure_ascii=False)}"))
        else:
            out.append((lay, f"{pad}{key} = {json.dumps(v, ensure_ascii=False)}"))


def json_frames(text, ignore, known=None):
    docs = json.loads(text, object_pairs_hook=pairs) if text.strip() else []
    frames = []
    for d in docs:
        layers = dict(d[1])["_source"]
        layers = dict(layers[1])["layers"]
        out = []
        flatten(layers, ignore, 0, out, None, known)
        frames.append(out)
    return frames


def ek_frames(text, ignore, known=None):
    frames = []
    for line in text.splitlines():
        if not line.strip():
            continue
        d = json.loads(line, object_pairs_hook=pairs)
        top = dict(d[1])
        if "layers" not in top:
            continue
        out = []
        flatten(top["layers"], ignore, 0, out, None, known)
        frames.append(out)
    return frames


def tshark_names(tshark):
    """(JSON keys, EK keys) of every field and protocol tshark knows."""
    keys, ek = set(), set()
    for line in run([tshark, "-G", "fields"]).splitlines():
        cols = line.split("\t")
        if cols[0] == "P" and len(cols) >= 3:
            keys.add(cols[2])
            ek.add(cols[2].replace(".", "_"))
        elif cols[0] == "F" and len(cols) >= 5:
            keys.add(cols[2])
            ek.add(f"{cols[4]}_{cols[2]}".replace(".", "_"))
    return keys, ek


def our_text_names(ours, theirs):
    """A regex for the -V lines of our own fields (the names of the fields tshark lacks)."""
    names = set()
    for line in run([ours, "-G", "fields"]).splitlines():
        cols = line.split("\t")
        if cols[0] == "F" and len(cols) >= 3 and cols[2] not in theirs:
            names.add(re.escape(cols[1]))
    if not names:
        return None
    return re.compile(r"\[?([.01 ]+ = )?(" + "|".join(sorted(names)) + r")(: .*)?\]?")


def text_frames(text, ignore, ours=False):
    """-V output: frames are separated by blank lines at depth 0 (a -V frame never has an empty
    line inside, except tshark's hex dump of `data`, which is indented and handled here)."""
    frames, cur, layer, skip_deeper = [], [], "", None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "":
            # A blank line followed by a hex row belongs to the frame (tshark's data dump).
            if i < len(lines) and re.match(r"^[0-9a-f]{4}  ", lines[i]):
                cur.append((layer, line))
                continue
            if cur:
                frames.append(cur)
            cur, skip_deeper = [], None
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 4
        if re.match(r"^[0-9a-f]{4}  ", line):
            cur.append((layer, line))
            continue
        if skip_deeper is not None:
            if depth > skip_deeper:
                continue
            skip_deeper = None
        if ignore is not None and ignore.fullmatch(line.strip()):
            skip_deeper = depth
            continue
        # Our expert findings are top-level items (tshark nests its own under the field).
        if ours and depth == 0 and line.startswith("[Expert Info"):
            skip_deeper = depth
            continue
        if depth == 0:
            layer = text_layer(line)
        cur.append((layer, line))
    if cur:
        frames.append(cur)
    return frames


TEXT_LAYERS = [
    ("Packet comments", "pkt_comment"),
    ("Frame ", "frame"),
    ("Ethernet II", "eth"),
    ("802.1Q Virtual LAN", "vlan"),
    ("Linux cooked capture", "sll"),
    ("Null/Loopback", "null"),
    ("Internet Protocol Version 4", "ip"),
    ("Internet Protocol Version 6", "ipv6"),
    ("Transmission Control Protocol", "tcp"),
    ("iWARP Marker Protocol", "iwarp_mpa"),
    ("iWARP Direct Data Placement", "iwarp_ddp_rdmap"),
    ("Data (", "data"),
    ("[Expert Info", "_ws.expert"),
    ("[Malformed Packet", "_ws.malformed"),
]


def text_layer(line):
    """The protocol a -V top line starts (its JSON name where this script knows it)."""
    for prefix, name in TEXT_LAYERS:
        if line.startswith(prefix):
            return name
    return re.split(r"[ (,\[]", line.strip("["), 1)[0] or line


def hex_frames(text):
    frames, cur = [], []
    for line in text.split("\n"):
        if line == "":
            if cur:
                frames.append(cur)
            cur = []
        else:
            cur.append(("hex", line))
    if cur:
        frames.append(cur)
    return frames


def layer_of_text(line):
    return line


def compare(name, theirs, ours, args, fmt):
    """Returns {layer: differing lines} and prints diffs with -v."""
    counts = {}
    shown = 0
    if len(theirs) != len(ours):
        counts["(frame count)"] = abs(len(theirs) - len(ours))
    for n, (t, o) in enumerate(zip(theirs, ours), 1):
        tl = [l for _, l in t]
        ol = [l for _, l in o]
        if tl == ol:
            continue
        layer_at = {}
        for lay, l in t + o:
            layer_at.setdefault(l, lay)
        diff = list(difflib.unified_diff(tl, ol, "tshark", "oneshot-dissect", n=2, lineterm=""))
        frame_counts = {}
        for d in diff:
            if d[:1] in "+-" and not d.startswith(("+++", "---")):
                lay = layer_at.get(d[1:], "?")
                if args.layers and lay not in args.layers:
                    continue
                frame_counts[lay] = frame_counts.get(lay, 0) + 1
        if not frame_counts:
            continue
        for k, v in frame_counts.items():
            counts[k] = counts.get(k, 0) + v
        if args.v and shown < args.max_frames:
            shown += 1
            print(f"--- {name} {fmt} frame {n}")
            for d in diff[2:]:
                print(d)
    return counts


def main():
    ap = argparse.ArgumentParser(add_help=True, description=__doc__.split("\n")[0])
    ap.add_argument("captures", nargs="*")
    ap.add_argument("--ours", default=None)
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--formats", default="json,ek,ekx,verbose,hex")
    ap.add_argument("--layers", default=",".join(IN_SCOPE))
    ap.add_argument("--keep-tcp", action="store_true")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--max-frames", type=int, default=5)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ours = args.ours or os.path.join(root, "target", "release", "oneshot-dissect")
    if not os.path.exists(ours):
        sys.exit(f"compare-with-tshark: no {ours}: cargo build --release -p oneshot-dissect")
    caps = args.captures or sorted(glob.glob(os.path.join(root, "captures", "*.pcap*")))
    args.layers = [x for x in args.layers.split(",") if x and args.layers != "all"]
    global TCP_EXPERTS
    TCP_EXPERTS = not args.keep_tcp
    json_ignore = DELIBERATE_JSON + ([] if args.keep_tcp else TCP_ANALYSIS_JSON)
    text_ignore = DELIBERATE_TEXT + ([] if args.keep_tcp else TCP_ANALYSIS_TEXT)
    jre = re.compile("|".join(json_ignore))
    # EK keys: `proto_field` with dots as underscores.
    ekre = re.compile("|".join(
        rf"([a-z_0-9]+_)?{p.replace(chr(92) + '.', '_')}" for p in json_ignore) + "|text")
    tre = re.compile("|".join(text_ignore))
    known, known_ek = tshark_names(args.tshark)
    ours_text = our_text_names(ours, known)
    fmts = args.formats.split(",")
    total = 0
    for cap in caps:
        name = os.path.basename(cap)
        results = {}
        DISABLE = disable_for(cap)
        for fmt in fmts:
            if fmt == "json":
                t = json_frames(run([args.tshark, "-r", cap, "-T", "json", "-x"]), jre)
                o = json_frames(run([ours, "-r", cap, "-T", "json", "-x"] + DISABLE), jre, known)
            elif fmt in ("ek", "ekx"):
                x = ["-x"] if fmt == "ekx" else []
                t = ek_frames(run([args.tshark, "-r", cap, "-T", "ek"] + x), ekre)
                o = ek_frames(run([ours, "-r", cap, "-T", "ek"] + x + DISABLE), ekre, known_ek)
            elif fmt == "verbose":
                t = text_frames(run([args.tshark, "-r", cap, "-V"]), tre)
                o = text_frames(run([ours, "-r", cap, "-V"] + DISABLE), ours_text, True)
            elif fmt == "hex":
                t = hex_frames(run([args.tshark, "-r", cap, "-x"]))
                o = hex_frames(run([ours, "-r", cap, "-x", "--color", "never"] + DISABLE))
            else:
                sys.exit(f"compare-with-tshark: unknown format {fmt}")
            results[fmt] = compare(name, t, o, args, fmt)
        diffs = sum(sum(c.values()) for c in results.values())
        total += diffs
        line = f"{name}: " + ("same" if diffs == 0 else f"{diffs} differing lines")
        print(line)
        for fmt, c in results.items():
            if c:
                detail = ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                print(f"    {fmt}: {detail}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
