//! Percent-encoding and hex helpers, written for the signer's hot path.

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// RFC 3986 unreserved characters: the only bytes SigV4 leaves unencoded.
#[inline]
pub(crate) fn is_unreserved(b: u8) -> bool {
    UNRESERVED[b as usize] & 1 != 0
}

/// Whether a byte passes through a path unencoded (unreserved or `/`).
#[inline]
fn is_path_safe(b: u8) -> bool {
    UNRESERVED[b as usize] != 0
}

/// Bit 0: unreserved. Bit 1: `/`.
static UNRESERVED: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            t[i] = 1;
        }
        i += 1;
    }
    t[b'/' as usize] = 2;
    t
};

#[inline]
fn push_escape(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX_UPPER[(b >> 4) as usize] as char);
    out.push(HEX_UPPER[(b & 15) as usize] as char);
}

/// Appends `input` with every byte except the unreserved set (and `/` when `keep_slash`)
/// percent-encoded, uppercase hex.
pub(crate) fn encode_into(out: &mut String, input: &[u8], keep_slash: bool) {
    let mut start = 0;
    for (i, &b) in input.iter().enumerate() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            continue;
        }
        // SAFETY-free: the run [start, i) is ASCII unreserved, so it is valid UTF-8.
        out.push_str(ascii(&input[start..i]));
        push_escape(out, b);
        start = i + 1;
    }
    out.push_str(ascii(&input[start..]));
}

/// Appends `input` percent-encoded as SigV4 and S3 expect: every byte except the RFC 3986
/// unreserved ones (and `/` when `keep_slash`) becomes `%XX`, uppercase hex. For building URLs
/// whose path and query must match what is signed (S3 keys, query values).
pub fn uri_encode_into(out: &mut String, input: &str, keep_slash: bool) {
    encode_into(out, input.as_bytes(), keep_slash);
}

/// Appends a path with S3's rules: existing `%XX` escapes are kept (hex uppercased), every other
/// byte outside the unreserved set and `/` is encoded once.
pub(crate) fn encode_path_keep_escapes(out: &mut String, path: &str) {
    // Runs are cut at ASCII bytes, so slicing the str needs no UTF-8 validation.
    let input = path.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < input.len() {
        let b = input[i];
        if is_path_safe(b) {
            i += 1;
            continue;
        }
        out.push_str(path.get(start..i).unwrap_or_default());
        if b == b'%' && i + 2 < input.len() && hex_val(input[i + 1]).is_some() && hex_val(input[i + 2]).is_some() {
            out.push('%');
            out.push(input[i + 1].to_ascii_uppercase() as char);
            out.push(input[i + 2].to_ascii_uppercase() as char);
            i += 3;
        } else {
            push_escape(out, b);
            i += 1;
        }
        start = i;
    }
    out.push_str(path.get(start..).unwrap_or_default());
}

/// Interprets a run of bytes already known to be ASCII as `&str`.
#[inline]
fn ascii(bytes: &[u8]) -> &str {
    // Callers only pass runs of unreserved ASCII bytes.
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[inline]
pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes a query component: `%XX` becomes the byte, `+` becomes a space (as botocore
/// and form decoding do), a malformed escape is kept literally.
pub(crate) fn decode_query_component(input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if i + 2 < input.len() => match (hex_val(input[i + 1]), hex_val(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

/// Two lowercase hex digits for every byte value.
static HEX_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX_LOWER[i >> 4], HEX_LOWER[i & 15]];
        i += 1;
    }
    t
};

/// Lowercase hex of a SHA-256 digest appended to `out` (fixed size: no bounds checks, unrolled).
pub(crate) fn hex32_into(out: &mut String, digest: &[u8; 32]) {
    let mut buf = [0u8; 64];
    for i in 0..32 {
        let pair = HEX_PAIRS[digest[i] as usize];
        buf[2 * i] = pair[0];
        buf[2 * i + 1] = pair[1];
    }
    out.push_str(ascii(&buf));
}

/// Lowercase hex of `bytes` appended to `out`.
pub(crate) fn hex_into(out: &mut String, bytes: &[u8]) {
    let mut buf = [0u8; 128];
    for chunk in bytes.chunks(64) {
        for (pair, &b) in buf.chunks_exact_mut(2).zip(chunk) {
            pair.copy_from_slice(&HEX_PAIRS[b as usize]);
        }
        out.push_str(ascii(&buf[..chunk.len() * 2]));
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    hex_into(&mut s, bytes);
    s
}

/// Standard base64 (with padding), used for POST policies and checksums.
pub fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(TABLE[(n >> 18) as usize & 63] as char);
        out.push(TABLE[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { TABLE[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { TABLE[n as usize & 63] as char } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved() {
        let mut s = String::new();
        encode_into(&mut s, "a b/c%~ሴ".as_bytes(), true);
        assert_eq!(s, "a%20b/c%25~%E1%88%B4");
        s.clear();
        encode_into(&mut s, b"a/b", false);
        assert_eq!(s, "a%2Fb");
    }

    #[test]
    fn s3_path_keeps_escapes() {
        let mut s = String::new();
        encode_path_keep_escapes(&mut s, "/test$file.text/%2fx%zz%4");
        assert_eq!(s, "/test%24file.text/%2Fx%25zz%254");
    }

    #[test]
    fn decodes_query() {
        let mut v = Vec::new();
        decode_query_component(b"a%20b+c%zz%4", &mut v);
        assert_eq!(v, b"a b c%zz%4");
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
