//! Replays the saved corpus of the `raw_request` fuzz target (the seeds and the inputs packed
//! in `fuzz/corpus/raw_request.tar.gz`, and every crash found, kept in
//! `fuzz/regressions/raw_request`) through the same check the fuzzer runs.

include!("../fuzz/check.rs");
include!("../fuzz/saved_inputs.rs");

#[test]
fn raw_request_corpus() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let inputs = saved_inputs(&fuzz, "raw_request");
    assert!(!inputs.is_empty(), "no saved inputs under {}", fuzz.display());
    for (name, data) in &inputs {
        let result = std::panic::catch_unwind(|| raw_request(data));
        assert!(result.is_ok(), "{name} panicked");
    }
}
