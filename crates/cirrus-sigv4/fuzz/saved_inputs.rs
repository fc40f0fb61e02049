// The saved inputs of a fuzz target, for the tests that replay them: `tests/fuzz_replay.rs`
// here and the tests of `crates/cirrus/fuzz/harness.rs` include this file (flate2 is a
// dev-dependency of both crates). See FUZZING.md.

/// Every saved input of `target` under the fuzz folder `fuzz`, named: the files in
/// `corpus/TARGET` (the seeds, and whatever `scripts/fuzz` unpacked or a campaign added), the
/// fuzzer's inputs packed in `corpus/TARGET.tar.gz` (those not unpacked already), and the
/// crashes kept in `regressions/TARGET`.
fn saved_inputs(fuzz: &std::path::Path, target: &str) -> Vec<(String, Vec<u8>)> {
    let folder = fuzz.join("corpus").join(target);
    let mut inputs = Vec::new();
    for dir in [folder.clone(), fuzz.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            // A fuzzer running beside the tests may remove an input it has reduced.
            let Ok(data) = std::fs::read(&path) else { continue };
            inputs.push((path.display().to_string(), data));
        }
    }
    let pack = fuzz.join("corpus").join(format!("{target}.tar.gz"));
    for (name, data) in unpack_tar_gz(&pack) {
        if !folder.join(&name).exists() {
            inputs.push((format!("{}: {name}", pack.display()), data));
        }
    }
    inputs
}

/// The plain files of a `.tar.gz` as `scripts/fuzz` writes it (ustar, short names); none when
/// there is no such file. Anything else in it is a test failure.
fn unpack_tar_gz(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else { return Vec::new() };
    let bad = |what: &str| -> ! { panic!("{}: {what}", path.display()) };
    let mut tar = Vec::new();
    if let Err(e) = flate2::read::GzDecoder::new(file).read_to_end(&mut tar) {
        bad(&format!("not gzip: {e}"));
    }
    let mut files = Vec::new();
    let mut at = 0;
    while let Some(header) = tar.get(at..at + 512) {
        if header.iter().all(|&b| b == 0) {
            break; // the end-of-archive blocks
        }
        let field = |from: usize, to: usize| {
            let raw = &header[from..to];
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            String::from_utf8_lossy(&raw[..end]).trim().to_owned()
        };
        let size = usize::from_str_radix(&field(124, 136), 8).unwrap_or_else(|_| bad("a header without a size"));
        let Some(body) = tar.get(at + 512..at + 512 + size) else { bad("cut short") };
        if matches!(header[156], b'0' | 0) {
            files.push((field(0, 100), body.to_vec()));
        }
        at += 512 + size.div_ceil(512) * 512;
    }
    files
}
