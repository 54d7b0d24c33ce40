//! Any UTF-8 text as a display filter (`-Y`): compiling never panics; an error names a column
//! inside the text (or one past its end) on its first line. A filter that compiles is evaluated
//! on every frame of two shipped captures (a one-shot Write exchange and the fault-injection
//! capture), where `!(filter)` must match exactly the frames the filter does not, and the
//! frames it matches are dumped with `-x` marking the filter's fields.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use oneshot_dissect::capture::{CaptureReader, Format};
use oneshot_dissect::dissector::{Config, Dissector};
use oneshot_dissect::filter::Filter;
use oneshot_dissect::print::hex::HexDump;
use oneshot_dissect::tree::Detail;
use oneshot_fuzz::shipped;

/// The captures filters are evaluated on.
const ON: &[&str] = &["oneshot-write.pcapng", "faults.pcapng"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let filter = match Filter::compile(text) {
        Ok(f) => f,
        Err(e) => {
            let chars = text.chars().count();
            assert!(
                (1..=chars + 1).contains(&e.col),
                "column {} outside 1..={}",
                e.col,
                chars + 1
            );
            let shown = e.to_string();
            let first = shown.lines().next().unwrap_or("");
            assert!(
                first.ends_with(&format!("(column {})", e.col)),
                "first line {first:?}"
            );
            return;
        }
    };
    assert_eq!(filter.text(), text);
    let negated = Filter::compile(&format!("!({text})")).ok();
    let marked = filter.fields();
    let mut dump = HexDump::new();
    let mut out = Vec::new();
    for name in ON {
        let bytes = shipped::capture(name);
        let mut reader = CaptureReader::from_reader(name, Box::new(std::io::Cursor::new(bytes)))
            .expect("a shipped capture opens");
        let pcapng = matches!(reader.format(), Format::PcapNg);
        let mut d = Dissector::new(Config {
            detail: Detail::Values,
            summary: false,
            ..Config::default()
        });
        while let Some(item) = reader.next() {
            let pkt = item.expect("a shipped capture reads");
            d.dissect(&pkt, pcapng);
            let matched = filter.matches(&d.tree, pkt.data);
            if let Some(n) = &negated {
                assert_ne!(
                    n.matches(&d.tree, pkt.data),
                    matched,
                    "{name} frame {}: {text:?} and its negation",
                    pkt.number
                );
            }
            if matched {
                out.clear();
                dump.dump(&mut out, &d.tree, pkt.data, &marked, pkt.number % 2 == 0)
                    .expect("writing to memory");
            }
        }
    }
});
