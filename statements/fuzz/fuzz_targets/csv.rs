//! Any bytes as a CSV, under mappings chosen by the first bytes: parse never
//! panics, and every entry it accepts has a positive amount.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statements::{parse, CsvMapping, Format, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let mapping = CsvMapping {
        separator: [';', ',', '\t', '|'][usize::from(choice & 3)],
        encoding: ["utf-8", "windows-1251", "iso-8859-1", "utf-8"][usize::from((choice >> 2) & 3)].into(),
        decimal_comma: choice & 16 != 0,
        header_rows: usize::from((choice >> 5) & 1),
        direction: (choice & 64 != 0).then_some(4),
        reference: (choice & 128 != 0).then_some(5),
        ..CsvMapping::default()
    };
    let limits = Limits { max_bytes: 1 << 20, ..Limits::default() };
    if let Ok(s) = parse(Format::Csv, rest, Some(&mapping), &limits) {
        assert!(s.entries.iter().all(|e| e.amount_minor > 0));
    }
});
