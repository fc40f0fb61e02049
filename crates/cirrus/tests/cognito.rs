//! Cognito: the SRP arithmetic against pycognito (PyPI) with the same fixed ephemeral values,
//! one test per case of `tests/data/srp/cases.json`.

use crate::common::{python, trial};
use crate::ensure;
use cirrus::cognito::srp::{PasswordVerifier, SrpClient};
use libtest_mimic::Trial;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/srp")
}

pub fn trials() -> Vec<Trial> {
    let text = std::fs::read_to_string(data().join("cases.json")).expect("tests/data/srp/cases.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases.json is JSON");
    cases
        .into_iter()
        .map(|case| {
            let name = format!("cognito::srp_matches_pycognito::{}", case["name"].as_str().unwrap_or("?"));
            trial(name, move || srp_case(&case))
        })
        .collect()
}

/// pycognito's values for a case (and the server side of SRP-6a, from the verifier).
fn reference(case: &Value) -> Result<Value, String> {
    let mut child = Command::new(python()?)
        .arg(data().join("reference.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the test Python: {e}"))?;
    child.stdin.take().unwrap().write_all(case.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    ensure!(out.status.success(), "reference.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).map_err(|e| format!("reference.py printed no JSON: {e}"))
}

fn srp_case(case: &Value) -> Result<(), String> {
    let s = |k: &str| case[k].as_str().map(str::to_owned).ok_or(format!("case has no {k}"));
    let want = reference(case)?;
    let w = |k: &str| want[k].as_str().unwrap_or_default().to_owned();
    ensure!(w("S") == w("S_server"), "pycognito's S is not the server's S: the reference itself is wrong");

    let a = hex(&s("a")?)?;
    let client = SrpClient::with_secret(&s("pool_id")?, &a).map_err(|e| e.to_string())?;
    ensure!(client.srp_a() == w("A"), "A: {} != pycognito {}", client.srp_a(), w("A"));
    let d = client.derive(&s("user_id")?, &s("password")?, &s("salt")?, &w("B")).map_err(|e| e.to_string())?;
    ensure!(d.k == w("k"), "k: {} != {}", d.k, w("k"));
    ensure!(d.u == w("u"), "u: {} != {}", d.u, w("u"));
    ensure!(d.x == w("x"), "x: {} != {}", d.x, w("x"));
    ensure!(d.s == w("S"), "S differs from pycognito");
    ensure!(cirrus::sigv4::hex(&d.key) == w("key"), "HKDF key: {} != {}", cirrus::sigv4::hex(&d.key), w("key"));

    let time = cirrus::sigv4::parse_rfc3339(&s("time")?).ok_or("bad time")?;
    let challenge =
        PasswordVerifier { user_id: s("user_id")?, salt: s("salt")?, srp_b: w("B"), secret_block: s("secret_block")? };
    let claim = client.claim(&challenge, &s("password")?, time).map_err(|e| e.to_string())?;
    ensure!(claim.timestamp == s("timestamp")?, "timestamp {:?} != {:?}", claim.timestamp, s("timestamp")?);
    ensure!(claim.timestamp == w("timestamp"), "pycognito signed {:?}", w("timestamp"));
    ensure!(claim.signature == w("signature"), "signature {} != pycognito {}", claim.signature, w("signature"));
    Ok(())
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s = if s.len() % 2 == 1 { format!("0{s}") } else { s.to_owned() };
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string())).collect()
}
