//! Inputs that once crashed a parser, or were written to try to: every file
//! under `tests/crashers/<format>/` (where `scripts/fuzz.sh` crashes are
//! copied from `statements/fuzz/artifacts/<target>/`) must be parsed or
//! refused with a reason, never panic.

#![allow(clippy::unwrap_used)]

use statements::{parse, CsvMapping, Format, Limits};

fn each(dir: &str, format: Format) {
    let path = format!("{}/tests/crashers/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {path}");
    let mapping = CsvMapping::default();
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let result =
            std::panic::catch_unwind(|| parse(format, &bytes, Some(&mapping), &Limits::default()));
        match result {
            Ok(Ok(s)) => assert!(s.check_totals().is_ok()),
            Ok(Err(e)) => assert!(
                !e.reason.is_empty(),
                "{}: a refusal without a reason",
                file.display()
            ),
            Err(_) => panic!("{} makes the {dir} parser panic", file.display()),
        }
    }
}

#[test]
fn camt053_crashers_are_refused_not_panics() {
    each("camt053", Format::Camt053);
}

#[test]
fn cnab240_crashers_are_refused_not_panics() {
    each("cnab240", Format::Cnab240);
}

#[test]
fn onec_crashers_are_refused_not_panics() {
    each("onec", Format::OneC);
}

#[test]
fn csv_crashers_are_refused_not_panics() {
    each("csv", Format::Csv);
}
