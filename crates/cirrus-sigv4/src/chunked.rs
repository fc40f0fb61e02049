//! aws-chunked streaming uploads: chunk signatures, the trailer signature, and the wire format.
//!
//! Sign the request headers first with [`crate::Payload::StreamingSigned`] (or
//! `StreamingSignedTrailer` / `StreamingUnsignedTrailer`), with `Content-Encoding: aws-chunked`,
//! `X-Amz-Decoded-Content-Length` and (for trailers) `X-Amz-Trailer`. Then feed the body through
//! a [`ChunkSigner`] seeded with that request's signature. See
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>.

use crate::hmac::sha256;
use crate::key::SigningKey;
use crate::time::Civil;
use std::time::SystemTime;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SIG_LEN: u64 = 64;

/// Signs the chunks of one aws-chunked body, each signature chained to the previous one.
///
/// Debug never prints the key.
///
/// ```
/// use cirrus_sigv4::chunked::{signed_encoded_length, ChunkSigner};
/// use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams};
/// use std::time::SystemTime;
///
/// let (body, now) = (vec![b'a'; 100_000], SystemTime::now());
/// let decoded = body.len().to_string();
/// let length = signed_encoded_length(body.len() as u64, 65_536).expect("fits").to_string();
/// let headers = [
///     ("Host", "my-bucket.s3.us-east-1.amazonaws.com"),
///     ("Content-Encoding", "aws-chunked"),
///     ("X-Amz-Decoded-Content-Length", decoded.as_str()),
///     ("Content-Length", length.as_str()),
/// ];
/// let request = SignableRequest::new("PUT", "/big.bin", headers, Payload::StreamingSigned)?;
/// let params = SigningParams::new("AKIDEXAMPLE", "secret", "us-east-1", "s3", now);
/// let seed = sign(&request, &params)?;
/// // Send the headers of `seed`, then the body in signed chunks.
/// let mut signer = ChunkSigner::new(seed.signature(), "secret", "us-east-1", "s3", now);
/// let mut wire = Vec::new();
/// for chunk in body.chunks(65_536) {
///     signer.encode_chunk(chunk, &mut wire);
/// }
/// signer.encode_chunk(b"", &mut wire); // the final, empty chunk
/// assert_eq!(wire.len().to_string(), length);
/// # Ok::<(), cirrus_sigv4::SigningError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ChunkSigner {
    key: SigningKey,
    amz_date: String,
    scope: String,
    previous: String,
}

impl ChunkSigner {
    /// A signer for a request signed at `time` with `seed_signature`, for `region` and `service`.
    pub fn new(seed_signature: &str, secret_access_key: &str, region: &str, service: &str, time: SystemTime) -> Self {
        let amz_date = Civil::from_system_time(time).amz_date();
        let date = &amz_date[..8];
        let key = SigningKey::cached(secret_access_key, date, region, service);
        let scope = format!("{date}/{region}/{service}/aws4_request");
        ChunkSigner { key, amz_date, scope, previous: seed_signature.to_owned() }
    }

    /// The signature of the next chunk (`data` empty for the final chunk), which becomes the
    /// previous signature for the one after.
    pub fn sign_chunk(&mut self, data: &[u8]) -> &str {
        let hash = sha256(data);
        self.chain("AWS4-HMAC-SHA256-PAYLOAD", Some(EMPTY_SHA256), &hash)
    }

    /// The signature over the trailing headers, chained to the final chunk's signature.
    /// `trailers` are `(name, value)`, names lowercase, in the order they are sent.
    pub fn sign_trailer(&mut self, trailers: &[(&str, &str)]) -> &str {
        let mut canonical = String::new();
        for (name, value) in trailers {
            canonical.push_str(name);
            canonical.push(':');
            canonical.push_str(value.trim());
            canonical.push('\n');
        }
        let hash = sha256(canonical.as_bytes());
        self.chain("AWS4-HMAC-SHA256-TRAILER", None, &hash)
    }

    /// Signs `<algorithm>\n<date>\n<scope>\n<previous>\n[<extra>\n]<hex hash>` and makes the
    /// result the previous signature.
    fn chain(&mut self, algorithm: &str, extra: Option<&str>, hash: &[u8; 32]) -> &str {
        let mut sts = String::with_capacity(256);
        for part in [algorithm, &self.amz_date, &self.scope, &self.previous].into_iter().chain(extra) {
            sts.push_str(part);
            sts.push('\n');
        }
        crate::encode::hex32_into(&mut sts, hash);
        self.previous = self.key.sign(&sts);
        &self.previous
    }

    /// Appends one signed chunk in wire format: `<hex size>;chunk-signature=<sig>\r\n<data>\r\n`.
    /// An empty `data` writes the final chunk (`0;chunk-signature=<sig>\r\n`) and, for the plain
    /// streaming mode, the closing `\r\n`: use [`ChunkSigner::encode_final_with_trailer`] instead
    /// when trailers follow.
    pub fn encode_chunk(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let sig = self.sign_chunk(data).to_owned();
        out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }

    /// Appends the final (empty) chunk, the trailers and the trailer signature.
    pub fn encode_final_with_trailer(&mut self, trailers: &[(&str, &str)], out: &mut Vec<u8>) {
        let sig = self.sign_chunk(b"").to_owned();
        out.extend_from_slice(format!("0;chunk-signature={sig}\r\n").as_bytes());
        for (name, value) in trailers {
            out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        }
        let tsig = self.sign_trailer(trailers).to_owned();
        out.extend_from_slice(format!("x-amz-trailer-signature:{tsig}\r\n\r\n").as_bytes());
    }
}

/// Appends one unsigned chunk (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`): `<hex size>\r\n<data>\r\n`.
pub fn encode_unsigned_chunk(data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the final unsigned chunk and the trailers: `0\r\n<name>:<value>\r\n...\r\n`.
pub fn encode_unsigned_final(trailers: &[(&str, &str)], out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

fn hex_len(n: u64) -> u64 {
    if n == 0 {
        1
    } else {
        (64 - n.leading_zeros() as u64).div_ceil(4)
    }
}

/// The `Content-Length` of a signed aws-chunked body of `decoded_len` bytes cut into
/// `chunk_size` chunks, without trailers (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`). `None` if it
/// does not fit in a `u64`.
pub fn signed_encoded_length(decoded_len: u64, chunk_size: u64) -> Option<u64> {
    let chunk = |n: u64| (hex_len(n) + 17 + SIG_LEN + 4).checked_add(n);
    let chunk_size = chunk_size.max(1);
    let full = decoded_len / chunk_size;
    let rest = decoded_len % chunk_size;
    let tail = if rest > 0 { chunk(rest)? } else { 0 };
    let body = if full == 0 { 0 } else { full.checked_mul(chunk(chunk_size)?)? };
    body.checked_add(tail)?.checked_add(chunk(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lengths() {
        assert_eq!(hex_len(0), 1);
        assert_eq!(hex_len(15), 1);
        assert_eq!(hex_len(16), 2);
        assert_eq!(hex_len(65536), 5);
    }

    #[test]
    fn content_length_of_the_s3_example() {
        // 66560 bytes in 64 KiB chunks: 66824 on the wire (S3 API reference).
        assert_eq!(signed_encoded_length(66_560, 65_536), Some(66_824));
        assert_eq!(signed_encoded_length(u64::MAX, 1), None);
        assert_eq!(signed_encoded_length(1, u64::MAX), Some(1 + 17 + 64 + 4 + 1 + 86));
    }

    #[test]
    fn unsigned_wire_format() {
        let mut out = Vec::new();
        encode_unsigned_chunk(b"hello", &mut out);
        encode_unsigned_final(&[("x-amz-checksum-crc32", "NhCmhg==")], &mut out);
        assert_eq!(out, b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n");
    }
}
