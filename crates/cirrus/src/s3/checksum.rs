//! The `x-amz-checksum-*` values S3 checks an upload against.

use std::fmt;

/// A checksum S3 verifies on upload and stores with the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC-32 (IEEE), as zlib computes it.
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order S3's documentation lists them.
    pub const ALL: [ChecksumAlgorithm; 3] = [Self::Crc32, Self::Crc32c, Self::Sha256];

    /// The name S3 uses: `CRC32`, `CRC32C`, `SHA256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Sha256 => "SHA256",
        }
    }

    /// The header carrying the value: `x-amz-checksum-crc32`...
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The element carrying the value in XML: `ChecksumCRC32`...
    pub(crate) fn xml_tag(self) -> &'static str {
        match self {
            Self::Crc32 => "ChecksumCRC32",
            Self::Crc32c => "ChecksumCRC32C",
            Self::Sha256 => "ChecksumSHA256",
        }
    }

    /// The value S3 expects for `data`: the big-endian digest, base64.
    pub fn checksum(self, data: &[u8]) -> String {
        match self {
            Self::Crc32 => cirrus_sigv4::base64(&crc32fast::hash(data).to_be_bytes()),
            Self::Crc32c => cirrus_sigv4::base64(&crc32c::crc32c(data).to_be_bytes()),
            Self::Sha256 => {
                use sha2::Digest;
                cirrus_sigv4::base64(&sha2::Sha256::digest(data))
            }
        }
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ChecksumAlgorithm {
    type Err = String;

    /// `CRC32`, `CRC32C` or `SHA256`, in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown checksum algorithm {s:?} (expected CRC32, CRC32C or SHA256)"))
    }
}

/// A checksum as S3 reports it: the algorithm and the base64 value. A multipart upload's
/// value is a checksum of the parts' checksums and ends in `-<parts>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checksum {
    /// Which algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// The base64 value, as in the header.
    pub value: String,
}

impl Checksum {
    /// The first `x-amz-checksum-*` header in `headers`.
    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Option<Checksum> {
        ChecksumAlgorithm::ALL.into_iter().find_map(|algorithm| {
            let value = headers.get(algorithm.header_name())?.to_str().ok()?;
            Some(Checksum { algorithm, value: value.to_owned() })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The check values of the CRC catalogue ("123456789") and FIPS 180-2 ("abc").
    #[test]
    fn known_values() {
        assert_eq!(
            ChecksumAlgorithm::Crc32.checksum(b"123456789"),
            cirrus_sigv4::base64(&0xCBF4_3926u32.to_be_bytes())
        );
        assert_eq!(
            ChecksumAlgorithm::Crc32c.checksum(b"123456789"),
            cirrus_sigv4::base64(&0xE306_9283u32.to_be_bytes())
        );
        assert_eq!(ChecksumAlgorithm::Sha256.checksum(b"abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert_eq!(ChecksumAlgorithm::Crc32.checksum(b""), "AAAAAA==");
    }

    #[test]
    fn names_parse_in_any_case() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(a.as_str().to_lowercase().parse::<ChecksumAlgorithm>(), Ok(a));
        }
        assert!("md5".parse::<ChecksumAlgorithm>().unwrap_err().contains("md5"));
    }
}
