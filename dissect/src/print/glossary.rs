//! `-G fields|values|protocols`: the registry in tshark's glossary formats.

use std::io::{self, Write};

use crate::cli::Glossary;
use crate::field::{Base, FIELDS, FieldDef, Ftype};

/// tshark's short name of a protocol.
fn short_name(abbrev: &str) -> &str {
    match abbrev {
        "frame" => "Frame",
        "eth" => "Ethernet",
        "vlan" => "VLAN",
        "ip" => "IPv4",
        "ipv6" => "IPv6",
        "tcp" => "TCP",
        "sll" => "SLL",
        "null" => "Null",
        "iwarp_mpa" => "IWARP_MPA",
        "iwarp_ddp_rdmap" => "IWARP_DDP_RDMAP",
        "iscsi" => "iSCSI",
        "scsi" => "SCSI",
        "scsi_sbc" => "SCSI_SBC",
        "iser" => "iSER",
        "data" => "Data",
        "oneshot" => "one-shot",
        "_ws.expert" => "Expert",
        "_ws.malformed" => "Malformed packet",
        a => a,
    }
}

fn base_name(d: &FieldDef) -> String {
    if d.ftype == Ftype::Boolean {
        return d.bool_bits.to_string();
    }
    match d.base {
        Base::None => String::new(),
        Base::Dec => "BASE_DEC".into(),
        Base::Hex => "BASE_HEX".into(),
        Base::DecHex => "BASE_DEC_HEX".into(),
        Base::HexDec => "BASE_HEX_DEC".into(),
        Base::Oct => "BASE_OCT".into(),
        Base::Port => "BASE_PT_TCP".into(),
        Base::Oui => "BASE_OUI".into(),
        Base::Custom => "BASE_CUSTOM".into(),
        Base::Plain => "BASE_NONE".into(),
    }
}

/// Writes the report.
pub fn write(out: &mut dyn Write, g: &Glossary) -> io::Result<()> {
    for d in FIELDS {
        match g {
            Glossary::Protocols => {
                if d.ftype == Ftype::Protocol {
                    writeln!(out, "{}\t{}\t{}", d.name, short_name(d.abbrev), d.abbrev)?;
                }
            }
            Glossary::Fields => {
                if d.ftype == Ftype::Protocol {
                    writeln!(out, "P\t{}\t{}", d.name, d.abbrev)?;
                } else {
                    writeln!(
                        out,
                        "F\t{}\t{}\t{}\t{}\t{}\t0x{:x}\t{}",
                        d.name,
                        d.abbrev,
                        d.ftype.name(),
                        d.parent,
                        base_name(d),
                        d.mask,
                        d.blurb
                    )?;
                }
            }
            Glossary::Values => {
                for (v, s) in d.values {
                    if matches!(d.base, Base::Dec | Base::DecHex | Base::Plain) {
                        writeln!(out, "V\t{}\t{v}\t{s}", d.abbrev)?;
                    } else {
                        writeln!(out, "V\t{}\t0x{v:x}\t{s}", d.abbrev)?;
                    }
                }
                if let Some((t, f)) = d.bool_strings {
                    writeln!(out, "T\t{}\t{t}\t{f}", d.abbrev)?;
                }
            }
        }
    }
    Ok(())
}
