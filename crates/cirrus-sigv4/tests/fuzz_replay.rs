//! Replays the saved corpus of the `raw_request` fuzz target (and every crash found, kept in
//! `fuzz/regressions/raw_request`) through the same check the fuzzer runs.

include!("../fuzz/check.rs");

#[test]
fn raw_request_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seen = 0;
    for dir in [root.join("corpus/raw_request"), root.join("regressions/raw_request")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            // A fuzzer running beside the tests may remove an input it has reduced.
            let Ok(data) = std::fs::read(&path) else { continue };
            let result = std::panic::catch_unwind(|| raw_request(&data));
            assert!(result.is_ok(), "{} panicked", path.display());
            seen += 1;
        }
    }
    assert!(seen > 0, "no saved inputs under {}", root.display());
}
