//! Command-line arguments in the tshark tradition, and their resolution into one validated set
//! of [`Options`].

use clap::Parser;
use oneshot_codec::oneshot::Placement;
use oneshot_codec::rdmap::{Profile, Settings};

use crate::dissector::{Config, DecodeAs};
use crate::field;
use crate::mpa::Forced;
use crate::print::fields::{Column, FieldOptions, apply_option};
use crate::tree::Detail;

/// Decode iWARP (MPA/DDP/RDMAP), one-shot RDMA, iSER and iSCSI from pcap or pcapng captures.
#[derive(Debug, Parser)]
#[command(
    name = "oneshot-dissect",
    version,
    about,
    long_about = None,
    disable_version_flag = true
)]
pub struct Args {
    /// Print the version (-v as in tshark; -V is the protocol tree).
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
    /// Read packets from FILE ("-" for standard input).
    #[arg(short = 'r', value_name = "FILE")]
    pub read: Option<String>,
    /// Print the full protocol tree of each packet.
    #[arg(short = 'V')]
    pub verbose: bool,
    /// Print the tree only for these protocols (comma-separated), like tshark's -O.
    #[arg(short = 'O', value_name = "PROTOCOLS")]
    pub only: Option<String>,
    /// Hex and ASCII dump of each packet, with the filter's fields marked.
    #[arg(short = 'x')]
    pub hex: bool,
    /// With -x, print the summary line of each packet too (as tshark's -P).
    #[arg(short = 'P')]
    pub summary: bool,
    /// Output format: text (default), fields, json, ek.
    #[arg(short = 'T', value_name = "FORMAT")]
    pub format: Option<String>,
    /// A field to print with -T fields (repeatable).
    #[arg(short = 'e', value_name = "FIELD")]
    pub fields: Vec<String>,
    /// -T fields options: header=y|n, separator=/t|/s|C, occurrence=f|l|a|N, aggregator=C, quote=d|s|n.
    #[arg(short = 'E', value_name = "OPTION")]
    pub field_opts: Vec<String>,
    /// Display filter: only frames that match are printed.
    #[arg(short = 'Y', value_name = "FILTER")]
    pub filter: Option<String>,
    /// Stop after reading N packets.
    #[arg(short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Quiet: print no frames (statistics still print).
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Statistics: expert, oneshot,exchanges, oneshot,stags, io,phs (repeatable).
    #[arg(short = 'z', value_name = "STATISTICS")]
    pub stats: Vec<String>,
    /// Glossary: fields, values or protocols.
    #[arg(short = 'G', value_name = "REPORT")]
    pub glossary: Option<String>,
    /// Decode-as rules that force MPA on a TCP port (repeatable).
    #[arg(
        short = 'd',
        value_name = "RULE",
        help = "Decode as: tcp.port==N,mpa[,crc=on|off][,markers=on|off] (repeatable)"
    )]
    pub decode_as: Vec<String>,
    /// Opcode profile: oneshot (0x8/0xC are the one-shot Sends) or rfc7306 (0x8 is Immediate Data).
    #[arg(long, value_name = "PROFILE", default_value = "oneshot")]
    pub profile: String,
    /// Where one-shot STags sit: rsvdulp or appended.
    #[arg(long, value_name = "PLACEMENT", default_value = "rsvdulp")]
    pub placement: String,
    /// Colours: auto (a terminal and no NO_COLOR), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: String,
    /// Most octets TCP reassembly may hold back, in all (suffixes K, M, G).
    #[arg(long, value_name = "BYTES", default_value = "64M")]
    pub reassembly_cap: String,
    /// Protocols not to decode (comma-separated): iwarp_mpa, oneshot, iser, iscsi.
    #[arg(long = "disable-protocol", value_name = "PROTOCOLS")]
    pub disable_protocol: Vec<String>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Accepted for tshark compatibility and ignored (name resolution is never done).
    #[arg(short = 'n')]
    pub no_resolve: bool,
    /// Two passes, like tshark's -2: the first learns what only the end of a conversation
    /// tells (tcp.reassembled_in, the final tcp.completeness and iRTT); the second prints.
    #[arg(short = '2')]
    pub two_pass: bool,
    /// A capture file (same as -r).
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// On a terminal unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl Color {
    /// Whether to colour output going to a terminal (`tty`) or not.
    pub fn resolve(self, tty: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// What to print per frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// One summary line.
    Summary,
    /// The tree (`-V`), optionally of some protocols only (`-O`).
    Tree {
        /// Protocols to expand (empty: all).
        only: Vec<String>,
    },
    /// `-T fields`.
    Fields {
        /// Columns.
        names: Vec<String>,
        /// `-E` options.
        opts: FieldOptions,
    },
    /// `-T json`.
    Json,
    /// `-T ek`.
    Ek,
    /// Nothing (`-q`).
    Quiet,
}

/// `-G` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glossary {
    /// `-G fields`.
    Fields,
    /// `-G values`.
    Values,
    /// `-G protocols`.
    Protocols,
}

/// The resolved, validated options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Capture file ("-" for stdin).
    pub file: String,
    /// What to print.
    pub mode: Mode,
    /// Add a hex dump.
    pub hex: bool,
    /// In [`Mode::Summary`], print the summary line (tshark prints only the hex dump for `-x`
    /// without `-P`).
    pub summary_line: bool,
    /// Display filter text.
    pub filter: Option<String>,
    /// Packets to read at most.
    pub count: Option<u64>,
    /// Statistics requested.
    pub stats: Vec<String>,
    /// Glossary report instead of reading a capture.
    pub glossary: Option<Glossary>,
    /// Dissector settings.
    pub config: Config,
    /// Colours.
    pub color: Color,
    /// Progress bar allowed.
    pub progress: bool,
    /// Read the capture twice (`-2`).
    pub two_pass: bool,
}

fn parse_size(s: &str) -> Result<usize, String> {
    let (num, mult) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<usize>()
        .map(|n| n * mult)
        .map_err(|_| format!("--reassembly-cap {s}: expected a size such as 64M"))
}

/// Parses `tcp.port==N,mpa[,crc=on|off][,markers=on|off]`.
pub fn parse_decode_as(s: &str) -> Result<DecodeAs, String> {
    let mut parts = s.split(',');
    let sel = parts.next().unwrap_or("");
    let port = sel
        .strip_prefix("tcp.port==")
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or_else(|| format!("-d {s}: expected tcp.port==N,mpa[,crc=on|off][,markers=on|off]"))?;
    if parts.next() != Some("mpa") {
        return Err(format!(
            "-d {s}: only \"mpa\" can be decoded as (tcp.port=={port},mpa)"
        ));
    }
    let mut forced = Forced {
        crc: true,
        markers: false,
    };
    for p in parts {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("-d {s}: \"{p}\" should be crc=on|off or markers=on|off"))?;
        let on = match v {
            "on" | "yes" | "1" => true,
            "off" | "no" | "0" => false,
            _ => return Err(format!("-d {s}: \"{v}\" should be on or off")),
        };
        match k {
            "crc" => forced.crc = on,
            "markers" => forced.markers = on,
            _ => return Err(format!("-d {s}: unknown option \"{k}\" (crc or markers)")),
        }
    }
    Ok(DecodeAs { port, forced })
}

impl Options {
    /// Validates `args`; every error is one line naming the argument and what would be right.
    pub fn resolve(a: Args) -> Result<Options, String> {
        let glossary = match a.glossary.as_deref() {
            None => None,
            Some("fields") => Some(Glossary::Fields),
            Some("values") => Some(Glossary::Values),
            Some("protocols") => Some(Glossary::Protocols),
            Some(g) => return Err(format!("-G {g}: expected fields, values or protocols")),
        };
        let file = match (a.read, a.file) {
            (Some(r), None) | (None, Some(r)) => r,
            (Some(_), Some(_)) => {
                return Err("give the capture once, with -r FILE or as an argument".into());
            }
            (None, None) if glossary.is_some() => String::new(),
            (None, None) => {
                return Err("no capture: use -r FILE (or -r - for standard input)".into());
            }
        };
        if a.two_pass && file == "-" {
            return Err("-2 reads the capture twice: give a file, not standard input".into());
        }
        let profile: Profile = a
            .profile
            .parse()
            .map_err(|e| format!("--profile {}: {e}", a.profile))?;
        let placement: Placement = a
            .placement
            .parse()
            .map_err(|e| format!("--placement {}: {e}", a.placement))?;
        let color = match a.color.as_str() {
            "auto" => Color::Auto,
            "always" => Color::Always,
            "never" => Color::Never,
            c => return Err(format!("--color {c}: expected auto, always or never")),
        };
        let decode_as = a
            .decode_as
            .iter()
            .map(|d| parse_decode_as(d))
            .collect::<Result<Vec<_>, _>>()?;
        let format = a.format.as_deref().unwrap_or("text");
        let mode = match format {
            "text" if a.quiet => Mode::Quiet,
            "text" if a.verbose || a.only.is_some() => Mode::Tree {
                only: a
                    .only
                    .as_deref()
                    .map(|o| o.split(',').map(|s| s.trim().to_string()).collect())
                    .unwrap_or_default(),
            },
            "text" => Mode::Summary,
            "fields" => {
                if a.fields.is_empty() {
                    return Err("-T fields needs at least one -e FIELD".into());
                }
                for f in &a.fields {
                    if Column::parse(f).is_none() {
                        let hint = field::suggest(f);
                        let hint = if hint.is_empty() {
                            String::new()
                        } else {
                            format!(" (did you mean {}?)", hint.join(", "))
                        };
                        return Err(format!("-e {f}: no such field{hint}; -G fields lists them"));
                    }
                }
                let mut opts = FieldOptions::default();
                for o in &a.field_opts {
                    apply_option(&mut opts, o)?;
                }
                if a.quiet {
                    Mode::Quiet
                } else {
                    Mode::Fields {
                        names: a.fields.clone(),
                        opts,
                    }
                }
            }
            "json" => Mode::Json,
            "ek" => Mode::Ek,
            t => return Err(format!("-T {t}: expected text, fields, json or ek")),
        };
        if !a.fields.is_empty() && !matches!(mode, Mode::Fields { .. } | Mode::Quiet) {
            return Err("-e needs -T fields".into());
        }
        for z in &a.stats {
            if !crate::stats::KNOWN.iter().any(|k| z == k) {
                return Err(format!(
                    "-z {z}: unknown statistics (known: {})",
                    crate::stats::KNOWN.join(", ")
                ));
            }
        }
        let mut disabled = crate::build::Disabled::default();
        for list in &a.disable_protocol {
            let d = crate::build::Disabled::parse(list)?;
            disabled.mpa |= d.mpa;
            disabled.oneshot |= d.oneshot;
            disabled.iser |= d.iser;
            disabled.iscsi |= d.iscsi;
        }
        // Without the extension nothing is cut from a Send's payload.
        let placement = if disabled.oneshot {
            Placement::RsvdUlp
        } else {
            placement
        };
        // Build only what the output needs: the -V text costs far more than the values. -z io,phs
        // reads frame.protocols, whose ":data" comes from the tree.
        let filtered = a.filter.is_some() || a.hex || a.stats.iter().any(|z| z == "io,phs");
        let (detail, summary) = match &mode {
            Mode::Quiet => (
                if filtered {
                    Detail::Values
                } else {
                    Detail::Off
                },
                false,
            ),
            Mode::Summary => (
                if filtered {
                    Detail::Values
                } else {
                    Detail::Off
                },
                true,
            ),
            Mode::Tree { .. } => (Detail::Labels, false),
            Mode::Fields { names, .. } => (
                Detail::Values,
                names.iter().any(|n| n.starts_with("_ws.col.")),
            ),
            Mode::Json | Mode::Ek => (Detail::Values, false),
        };
        // -T fields reads only its columns' fields; a filter or the placement of expert items
        // (FT_NONE findings, `_ws.*`) needs the whole tree.
        let only_fields = match &mode {
            Mode::Fields { names, .. } if a.filter.is_none() => names
                .iter()
                .filter_map(|n| match Column::parse(n) {
                    Some(Column::Field(f)) => Some(f),
                    _ => None,
                })
                .map(|f| {
                    let d = f.def();
                    (d.ftype != field::Ftype::None && !d.abbrev.starts_with("_ws.")).then_some(f)
                })
                .collect::<Option<Vec<_>>>()
                .map(|mut v| {
                    // -z io,phs reads the protocol stack `frame.protocols` holds.
                    if a.stats.iter().any(|z| z == "io,phs") {
                        v.push(crate::registry::f::FRAME_PROTOCOLS);
                    }
                    v
                }),
            _ => None,
        };
        Ok(Options {
            file,
            mode,
            hex: a.hex,
            summary_line: !a.hex || a.summary,
            filter: a.filter,
            count: a.count,
            stats: a.stats,
            glossary,
            config: Config {
                settings: Settings { profile, placement },
                decode_as,
                reassembly_cap: parse_size(&a.reassembly_cap)?,
                disabled,
                detail,
                summary,
                only_fields,
                ..Config::default()
            },
            color,
            progress: !a.no_progress,
            two_pass: a.two_pass,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_as_rules() {
        let d = parse_decode_as("tcp.port==4420,mpa,crc=off,markers=on").unwrap();
        assert_eq!(
            (d.port, d.forced.crc, d.forced.markers),
            (4420, false, true)
        );
        assert!(parse_decode_as("tcp.port==x,mpa").is_err());
        assert!(parse_decode_as("tcp.port==1,http").is_err());
        assert_eq!(
            parse_decode_as("tcp.port==1,mpa,crc=maybe").unwrap_err(),
            "-d tcp.port==1,mpa,crc=maybe: \"maybe\" should be on or off"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("lots").is_err());
    }
}
