#!/usr/bin/env bash
# Generates dissect/src/registry.rs, the field registry, from tshark's own registry:
#
#   bash dissect/tools/gen-registry.sh [TSHARK]      (TSHARK defaults to `tshark`)
#
# Inputs:
#   `tshark -G protocols`, `-G fields`, `-G values`   names, types, bases, masks, value strings
#   dissect/tools/tshark-fields.txt                   which protocols and fields, in output order
#   dissect/tools/ours.tsv                            the project's own rows (`ours: true`) and
#                                                     extra value names for tshark's rows
#   dissect/tools/display.tsv                         how `-V` shows a field beyond `-G`: whether
#                                                     tshark marks it generated ("[...]"), its
#                                                     unit ("bytes")
#
# Output: dissect/src/registry.rs (formatted with rustfmt). Never edit that file by hand: change
# the inputs and run this script again. The rows of a protocol are its FT_PROTOCOL row, the
# fields listed for it (tshark's order for `parent=`, else the list's order), then its ours.tsv
# rows; protocols come in the order of tshark-fields.txt. Nothing is sorted.
#
# Mapping of `-G fields` columns to FieldDef:
#   type   FT_* -> Ftype (an unknown FT_* is an error: add the variant to field.rs first).
#   base   FT_BOOLEAN: the column is the bit width -> bool_bits, base Base::None.
#          Integers: BASE_DEC -> Dec, BASE_HEX -> Hex, BASE_DEC_HEX -> DecHex,
#          BASE_HEX_DEC -> HexDec, BASE_OCT -> Oct, BASE_PT_TCP/_UDP/_SCTP/_DCCP -> Port,
#          BASE_OUI -> Oui, BASE_CUSTOM -> Custom, BASE_NONE -> Plain (integers with a value
#          string, e.g. tcp.checksum.status and _ws.expert.severity: `-T fields` prints them in
#          decimal, `-V` the value's name alone). Any other integer base is an error (`-G fields` prints FIELD_DISPLAY(), so
#          the BASE_UNIT_STRING/BASE_RANGE_STRING/BASE_EXT_STRING flags never show; BASE_EXP,
#          BASE_NETMASK, BASE_PT_* other than TCP are not selected). FT_FRAMENUM: Base::None.
#          Non-integers (times, strings, bytes, addresses, FT_NONE): Base::None.
#          Seen in the tshark 4.0.17 selection: BASE_DEC, BASE_HEX, BASE_DEC_HEX (iscsi.*),
#          BASE_HEX_DEC (1), BASE_PT_TCP (tcp ports), BASE_NONE (ip/tcp.checksum.status,
#          _ws.expert.severity/group), boolean widths 0, 8, 12, 16, 24.
#   values `V`/`V64` lines -> values (first the field's own list; a value seen twice keeps its
#          first name); `R` ranges are expanded when they span at most 64 values and skipped
#          (noted in the output) otherwise; `T` lines -> bool_strings (true, false). `E` and `U`
#          lines (extended-value metadata, unit strings) are not used. Identical value lists
#          share one static.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tshark="${1:-tshark}"
out="$(cd "$here/../src" && pwd)/registry.rs"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$tshark" --version 2>/dev/null | head -n 1 >"$tmp/version"
"$tshark" -G protocols 2>/dev/null >"$tmp/protocols"
"$tshark" -G fields 2>/dev/null >"$tmp/fields"
"$tshark" -G values 2>/dev/null >"$tmp/values"

python3 - "$tmp" "$here/tshark-fields.txt" "$here/ours.tsv" "$here/display.tsv" >"$tmp/registry.rs" <<'PY'
import re
import sys

tmp, list_path, ours_path, display_path = sys.argv[1:5]
version = open(f"{tmp}/version").read().strip()
m = re.search(r"\b(\d+\.\d+\.\d+)\b", version)
if not m:
    sys.exit(f"gen-registry: no version number in `tshark --version`: {version!r}")
short_version = m.group(1)


def die(msg):
    sys.exit(f"gen-registry: {msg}")


def number(text):
    """A value of `-G values`: decimal, 0x hex, negative (wrapped to u64) or a 'c' character."""
    if len(text) >= 3 and text[0] == text[-1] == "'":
        return ord(text[1:-1].encode("latin-1").decode("unicode_escape")[0])
    return int(text, 0) & 0xFFFF_FFFF_FFFF_FFFF


# ---- tshark's registry --------------------------------------------------------------------
short_names = {}  # abbrev -> (name, short name), from -G protocols
for line in open(f"{tmp}/protocols", encoding="utf-8"):
    cols = line.rstrip("\n").split("\t")
    if len(cols) == 3:
        short_names[cols[2]] = (cols[0], cols[1])

tshark_rows = {}  # abbrev -> row dict
tshark_order = []  # F abbrevs in -G fields order
for line in open(f"{tmp}/fields", encoding="utf-8"):
    cols = line.rstrip("\n").split("\t")
    if cols[0] == "P" and len(cols) == 3:
        tshark_rows[cols[2]] = dict(kind="P", name=cols[1], abbrev=cols[2], ours=False)
    elif cols[0] == "F" and len(cols) == 8:
        _, name, abbrev, ftype, parent, base, mask, blurb = cols
        row = dict(kind="F", name=name, abbrev=abbrev, ftype=ftype, parent=parent, base=base,
                   mask=int(mask, 16), blurb=blurb, ours=False)
        # Wireshark registers a few abbrevs twice (same name, other type); the first one wins,
        # as in its own filter engine.
        if abbrev not in tshark_rows:
            tshark_rows[abbrev] = row
            tshark_order.append(abbrev)

values = {}  # abbrev -> [(value, string, comment)]
bool_strings = {}  # abbrev -> (true, false)
skipped_ranges = {}  # abbrev -> number of ranges left out
for line in open(f"{tmp}/values", encoding="utf-8", errors="replace"):
    cols = line.rstrip("\n").split("\t")
    kind = cols[0]
    if kind in ("V", "V64") and len(cols) == 4:
        values.setdefault(cols[1], []).append((number(cols[2]), cols[3], None))
    elif kind == "R" and len(cols) == 5:
        low, high = number(cols[2]), number(cols[3])
        if 0 <= high - low < 64:
            values.setdefault(cols[1], []).extend((v, cols[4], None) for v in range(low, high + 1))
        else:
            skipped_ranges[cols[1]] = skipped_ranges.get(cols[1], 0) + 1
    elif kind == "T" and len(cols) == 4:
        bool_strings[cols[1]] = (cols[2], cols[3])

# ---- ours.tsv ------------------------------------------------------------------------------
ours_rows = {}
ours_order = []
for n, line in enumerate(open(ours_path, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    cols = line.split("\t")
    where = f"{ours_path}:{n}"
    if cols[0] == "P" and len(cols) == 3:
        row = dict(kind="P", name=cols[1], abbrev=cols[2], ours=True)
    elif cols[0] == "F" and len(cols) in (8, 9):
        _, name, abbrev, ftype, parent, base, mask, blurb = cols[:8]
        row = dict(kind="F", name=name, abbrev=abbrev, ftype=ftype, parent=parent, base=base,
                   mask=int(mask or "0", 16), blurb=blurb, ours=True)
        if len(cols) == 9 and cols[8]:
            pairs = []
            for item in cols[8].split(";"):
                k, _, s = item.partition("=")
                pairs.append((int(k, 0), s))
            if ftype == "FT_BOOLEAN":
                d = dict(pairs)
                bool_strings[abbrev] = (d.get(1, "True"), d.get(0, "False"))
            else:
                values[abbrev] = [(k, s, None) for k, s in pairs]
    elif cols[0] == "V" and len(cols) == 5:
        if cols[1] not in tshark_rows and cols[1] not in ours_rows:
            die(f"{where}: extra values for unknown field {cols[1]}")
        lst = values.setdefault(cols[1], [])
        lst.append((int(cols[2], 0), cols[3], cols[4]))
        lst.sort(key=lambda v: v[0])
        continue
    else:
        die(f"{where}: cannot parse line")
    if row["abbrev"] in tshark_rows:
        die(f"{where}: {row['abbrev']} is tshark's: list it in tshark-fields.txt instead")
    if row["abbrev"] in ours_rows:
        die(f"{where}: {row['abbrev']} twice")
    ours_rows[row["abbrev"]] = row
    ours_order.append(row["abbrev"])

# ---- display.tsv ---------------------------------------------------------------------------
display = {}  # abbrev -> {"generated": True, "unit": str}
for n, line in enumerate(open(display_path, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    cols = line.split("\t")
    where = f"{display_path}:{n}"
    if len(cols) < 2:
        die(f"{where}: want `abbrev<TAB>hint...`")
    if cols[0] not in tshark_rows and cols[0] not in ours_rows:
        die(f"{where}: {cols[0]} is neither tshark's nor in ours.tsv")
    if cols[0] in display:
        die(f"{where}: {cols[0]} twice")
    hints = {}
    for h in cols[1:]:
        if h == "generated":
            hints["generated"] = True
        elif h.startswith("unit="):
            hints["unit"] = h[len("unit="):]
        else:
            die(f"{where}: unknown hint {h!r} (generated, unit=TEXT)")
    display[cols[0]] = hints

# ---- the selection -------------------------------------------------------------------------
groups = []  # [(protocol row, [field rows])]
for n, line in enumerate(open(list_path, encoding="utf-8"), 1):
    entry = line.split("#", 1)[0].strip()
    if not entry:
        continue
    where = f"{list_path}:{n}"
    if entry.startswith("parent="):
        parent = entry[len("parent="):]
        rows = [tshark_rows[a] for a in tshark_order if tshark_rows[a].get("parent") == parent]
        if not rows:
            die(f"{where}: no tshark field has parent {parent}")
        if not groups:
            die(f"{where}: fields before the first protocol")
        groups[-1][1].extend(rows)
        continue
    row = tshark_rows.get(entry) or ours_rows.get(entry)
    if row is None:
        die(f"{where}: {entry} is neither in `tshark -G fields` nor in ours.tsv")
    if row["kind"] == "P":
        if not row["ours"] and entry not in short_names:
            die(f"{where}: {entry} is not in `tshark -G protocols`")
        groups.append((row, []))
    elif row["ours"]:
        die(f"{where}: {entry} is ours: ours.tsv rows are placed by their parent")
    elif not groups:
        die(f"{where}: fields before the first protocol")
    else:
        groups[-1][1].append(row)

placed = set()
for proto, rows in groups:
    for a in ours_order:
        r = ours_rows[a]
        if r["kind"] == "F" and r["parent"] == proto["abbrev"]:
            rows.append(r)
    placed.update([proto["abbrev"]] + [r["abbrev"] for r in rows])
for a in ours_order:
    if a not in placed:
        die(f"ours.tsv: {a}: its parent is not a protocol listed in tshark-fields.txt")

# ---- rendering -----------------------------------------------------------------------------
FTYPES = {
    "FT_NONE": "None", "FT_PROTOCOL": "Protocol", "FT_BOOLEAN": "Boolean",
    "FT_UINT8": "U8", "FT_UINT16": "U16", "FT_UINT24": "U24", "FT_UINT32": "U32",
    "FT_UINT48": "U48", "FT_UINT64": "U64", "FT_INT16": "I16", "FT_INT32": "I32",
    "FT_INT64": "I64", "FT_FRAMENUM": "FrameNum", "FT_BYTES": "Bytes", "FT_ETHER": "Ether",
    "FT_IPv4": "Ipv4", "FT_IPv6": "Ipv6", "FT_STRING": "String",
    "FT_ABSOLUTE_TIME": "AbsTime", "FT_RELATIVE_TIME": "RelTime", "FT_DOUBLE": "Double",
}
INTEGER_TYPES = {"FT_UINT8", "FT_UINT16", "FT_UINT24", "FT_UINT32", "FT_UINT48", "FT_UINT64",
                 "FT_INT16", "FT_INT32", "FT_INT64", "FT_FRAMENUM"}
BASES = {
    "BASE_DEC": "Dec", "BASE_HEX": "Hex", "BASE_DEC_HEX": "DecHex", "BASE_HEX_DEC": "HexDec",
    "BASE_OCT": "Oct", "BASE_PT_TCP": "Port", "BASE_PT_UDP": "Port", "BASE_PT_SCTP": "Port",
    "BASE_PT_DCCP": "Port", "BASE_OUI": "Oui", "BASE_CUSTOM": "Custom", "BASE_NONE": "Plain",
}


def rust_str(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def const_name(abbrev):
    return re.sub(r"[^A-Za-z0-9]", "_", abbrev).upper()


def base_of(row):
    ft, base = row["ftype"], row["base"]
    if ft == "FT_BOOLEAN":
        if not re.fullmatch(r"\d+", base or "0"):
            die(f"{row['abbrev']}: boolean width {base!r}")
        return "None", int(base or "0")
    if ft in INTEGER_TYPES:
        if ft == "FT_FRAMENUM":
            return "None", 0
        if base not in BASES:
            die(f"{row['abbrev']}: unknown base {base!r} (add it to BASES)")
        return BASES[base], 0
    return "None", 0


value_tables = {}  # tuple of values -> static name
value_statics = []  # (name, abbrev, entries, print in hex)
value_users = {}  # static name -> abbrevs using it
rendered = []
consts = []
seen_consts = {}
hexish = {"Hex", "HexDec"}
for proto, rows in groups:
    names = short_names.get(proto["abbrev"])
    label = proto["abbrev"]
    if names:
        label += f' ("{names[1]}" in `tshark -G protocols`)'
    if proto["ours"]:
        label += " (ours)"
    rendered.append(f"    // {label}: {len(rows) + 1} row{'s' if rows else ''}")
    for row in [proto] + rows:
        abbrev = row["abbrev"]
        cname = const_name(abbrev)
        if cname in seen_consts:
            die(f"{abbrev} and {seen_consts[cname]} both make the constant {cname}")
        seen_consts[cname] = abbrev
        consts.append((cname, abbrev))
        fields = [f"abbrev: {rust_str(abbrev)}", f"name: {rust_str(row['name'])}"]
        if row["kind"] == "P":
            fields.append("ftype: Ftype::Protocol")
        else:
            if row["ftype"] not in FTYPES:
                die(f"{abbrev}: unknown type {row['ftype']} (add it to Ftype and FTYPES)")
            fields.append(f"ftype: Ftype::{FTYPES[row['ftype']]}")
            base, bits = base_of(row)
            if base != "None":
                fields.append(f"base: Base::{base}")
            if bits:
                fields.append(f"bool_bits: {bits}")
            if row["mask"]:
                fields.append(f"mask: {row['mask']:#x}")
            vals = values.get(abbrev)
            if vals and row["ftype"] in INTEGER_TYPES:
                dedup, seen = [], set()
                for v in vals:
                    if v[0] not in seen:
                        seen.add(v[0])
                        dedup.append(v)
                key = tuple(dedup)
                if key not in value_tables:
                    value_tables[key] = "V_" + cname
                    value_statics.append(("V_" + cname, abbrev, dedup, base in hexish))
                value_users.setdefault(value_tables[key], []).append(abbrev)
                fields.append(f"values: {value_tables[key]}")
            if row["ftype"] == "FT_BOOLEAN" and abbrev in bool_strings:
                t, f = bool_strings[abbrev]
                fields.append(f"bool_strings: Some(({rust_str(t)}, {rust_str(f)}))")
            if row["parent"]:
                fields.append(f"parent: {rust_str(row['parent'])}")
            if row["blurb"]:
                fields.append(f"blurb: {rust_str(row['blurb'])}")
        if row["ours"]:
            fields.append("ours: true")
        hints = display.pop(abbrev, {})
        if hints.get("generated"):
            fields.append("generated: true")
        if "unit" in hints:
            fields.append(f"unit: {rust_str(hints['unit'])}")
        rendered.append("    FieldDef { " + ", ".join(fields) + ", ..BLANK },")

if display:
    die("display.tsv: not in the selection: " + ", ".join(sorted(display)))
if len(consts) > 0xFFFF:
    die("more rows than FieldId(u16) can index")

w = sys.stdout.write
w(f"""//! The field registry: every field the dissector can put in a tree (see [`crate::field`]).
//!
//! GENERATED by `bash dissect/tools/gen-registry.sh` from `tshark -G protocols|fields|values`
//! of tshark {short_version}, `dissect/tools/tshark-fields.txt`, `dissect/tools/ours.tsv` and
//! `dissect/tools/display.tsv`. Do not edit by hand: change those inputs and run the script again.
//!
//! `tshark --version`: {version}

use crate::field::{{Base, FieldDef, FieldId, Ftype}};

/// A row with every optional column empty; each row of [`FIELDS`] fills in the rest.
const BLANK: FieldDef = FieldDef {{
    abbrev: "",
    name: "",
    ftype: Ftype::None,
    base: Base::None,
    bool_bits: 0,
    mask: 0,
    values: &[],
    bool_strings: None,
    parent: "",
    blurb: "",
    ours: false,
    generated: false,
    unit: "",
}};

/// Every field, indexed by [`FieldId`]: per protocol its `FT_PROTOCOL` row, then its fields
/// ({len(consts)} rows).
pub static FIELDS: &[FieldDef] = &[
""")
w("\n".join(rendered) + "\n];\n")
for name, abbrev, entries, hx in value_statics:
    w(f"\n/// Value names of `{abbrev}`")
    sharers = value_users[name][1:]
    if sharers:
        w(" (also " + ", ".join(f"`{s}`" for s in sharers) + ")")
    if abbrev in skipped_ranges:
        w(f"; {skipped_ranges[abbrev]} ranges of more than 64 values left out")
    w(".\n")
    w("static " + name + ": &[(u64, &str)] = &[\n")
    for v, s, comment in entries:
        num = f"{v:#x}" if hx else str(v)
        if comment:
            w(f"    // ours: {comment}\n")
        w(f"    ({num}, {rust_str(s)}),\n")
    w("];\n")
w("""
/// Field ids by name: the abbrev upper-cased, every other character `_`
/// (`f::IWARP_DDP_MSN` is `iwarp_ddp.msn`).
#[allow(missing_docs)]
pub mod f {
    use super::FieldId;
""")
for i, (cname, abbrev) in enumerate(consts):
    w(f"    pub const {cname}: FieldId = FieldId({i});\n")
w("}\n")

counts = ", ".join(f"{p['abbrev']} {len(r) + 1}" for p, r in groups)
print(f"gen-registry: {len(consts)} rows ({counts})", file=sys.stderr)
PY

rustfmt --edition 2024 "$tmp/registry.rs"
mv "$tmp/registry.rs" "$out"
echo "gen-registry: wrote $out"
