//! Any bytes given as a cnab240 file: parse never panics, and what it accepts
//! agrees with its own totals and holds only positive amounts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statements::{parse, Format, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 20, ..Limits::default() };
    if let Ok(s) = parse(Format::Cnab240, data, None, &limits) {
        assert!(s.check_totals().is_ok());
        assert!(s.entries.iter().all(|e| e.amount_minor > 0));
        assert!(s.entries.len() <= limits.max_entries);
    }
});
