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
    /// CRC-64/NVME, S3's default since 2025. A multipart upload with it has a full-object
    /// checksum (`x-amz-checksum-type: FULL_OBJECT`), as S3 requires.
    Crc64Nvme,
}

/// CRC-64/NVME with a slice-by-16 table.
static CRC64NVME: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_NVME);

impl ChecksumAlgorithm {
    /// Every algorithm, in the order S3's documentation lists them.
    pub const ALL: [ChecksumAlgorithm; 4] = [Self::Crc32, Self::Crc32c, Self::Sha256, Self::Crc64Nvme];

    /// The name S3 uses: `CRC32`, `CRC32C`, `SHA256`, `CRC64NVME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Sha256 => "SHA256",
            Self::Crc64Nvme => "CRC64NVME",
        }
    }

    /// The header carrying the value: `x-amz-checksum-crc32`...
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Sha256 => "x-amz-checksum-sha256",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
        }
    }

    /// The element carrying the value in XML: `ChecksumCRC32`...
    pub(crate) fn xml_tag(self) -> &'static str {
        match self {
            Self::Crc32 => "ChecksumCRC32",
            Self::Crc32c => "ChecksumCRC32C",
            Self::Sha256 => "ChecksumSHA256",
            Self::Crc64Nvme => "ChecksumCRC64NVME",
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
            Self::Crc64Nvme => cirrus_sigv4::base64(&CRC64NVME.checksum(data).to_be_bytes()),
        }
    }

    /// Whether a multipart upload keeps it as a checksum of the whole object (`FULL_OBJECT`):
    /// the CRCs; SHA-256 only of the parts' checksums (`COMPOSITE`).
    pub(crate) fn full_object(self) -> bool {
        !matches!(self, Self::Sha256)
    }

    /// A running digest of this algorithm.
    fn running(self) -> Running {
        match self {
            Self::Crc32 => Running::Crc32(crc32fast::Hasher::new()),
            Self::Crc32c => Running::Crc32c(0),
            Self::Sha256 => Running::Sha256(<sha2::Sha256 as sha2::Digest>::new()),
            Self::Crc64Nvme => Running::Crc64(CRC64NVME.digest()),
        }
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ChecksumAlgorithm {
    type Err = crate::transport::ParseError;

    /// `CRC32`, `CRC32C`, `SHA256` or `CRC64NVME`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let why = format!("expected CRC32, CRC32C, SHA256 or CRC64NVME, not {s:?}");
            crate::transport::ParseError::new("the checksum algorithm", why)
        })
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
    /// Whether the value is a whole digest of its algorithm in base64 (not a composite `-N`, not
    /// a store's malformed one: moto 5.2.5 keeps 4 bytes for a multipart CRC-64/NVME).
    pub(crate) fn is_whole(&self) -> bool {
        let len = match self.algorithm {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 8,
            ChecksumAlgorithm::Crc64Nvme => 12,
            ChecksumAlgorithm::Sha256 => 44,
        };
        self.value.len() == len && !self.value.contains('-')
    }

    /// The first `x-amz-checksum-*` header in `headers`.
    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Option<Checksum> {
        ChecksumAlgorithm::ALL.into_iter().find_map(|algorithm| {
            let value = headers.get(algorithm.header_name())?.to_str().ok()?;
            Some(Checksum { algorithm, value: value.to_owned() })
        })
    }
}

/// The whole object's CRC32 or CRC32C from its parts' checksums (in order, each with the
/// part's size); `None` for other algorithms (CRC-64/NVME is left to the store to combine) or
/// parts without one.
pub(crate) fn full_object(parts: &[(Option<&Checksum>, u64)]) -> Option<Checksum> {
    let first = parts.first()?.0?.algorithm;
    let mut crcs = Vec::with_capacity(parts.len());
    for (checksum, size) in parts {
        let c = checksum.filter(|c| c.algorithm == first)?;
        crcs.push((decode_crc32(&c.value)?, *size));
    }
    let whole = combine_crc32(first, &crcs)?;
    Some(Checksum { algorithm: first, value: cirrus_sigv4::base64(&whole.to_be_bytes()) })
}

/// The CRC32 or CRC32C of pieces one after the other, from each piece's CRC and size.
fn combine_crc32(algorithm: ChecksumAlgorithm, pieces: &[(u32, u64)]) -> Option<u32> {
    match algorithm {
        ChecksumAlgorithm::Crc32 => {
            let mut all = crc32fast::Hasher::new();
            for &(crc, size) in pieces {
                all.combine(&crc32fast::Hasher::new_with_initial_len(crc, size));
            }
            Some(all.finalize())
        }
        ChecksumAlgorithm::Crc32c => {
            let mut all = 0u32;
            for (i, &(crc, size)) in pieces.iter().enumerate() {
                all = if i == 0 { crc } else { crc32c::crc32c_combine(all, crc, usize::try_from(size).ok()?) };
            }
            Some(all)
        }
        _ => None,
    }
}

/// CRC-64/NVME of two pieces one after the other, from each piece's CRC and the second's size
/// (zlib's `crc32_combine`, over 64 bits: the first CRC moved past `len2` zero bytes by
/// squaring the operator of one zero bit, then the second added). Works because the algorithm
/// starts from and ends with all ones, as zlib's CRC-32 does.
fn crc64nvme_combine(crc1: u64, crc2: u64, len2: u64) -> u64 {
    // The reflected polynomial of CRC-64/NVME (0xAD93D23594C93659).
    const POLY: u64 = 0x9A6C_9329_AC4B_C9B5;
    fn times(mat: &[u64; 64], mut vec: u64) -> u64 {
        let (mut sum, mut i) = (0u64, 0usize);
        while vec != 0 {
            if vec & 1 == 1 {
                sum ^= mat[i];
            }
            vec >>= 1;
            i += 1;
        }
        sum
    }
    fn square(mat: &[u64; 64]) -> [u64; 64] {
        let mut out = [0u64; 64];
        for (n, row) in out.iter_mut().enumerate() {
            *row = times(mat, mat[n]);
        }
        out
    }
    if len2 == 0 {
        return crc1;
    }
    // The operator for one zero bit.
    let mut one_bit = [0u64; 64];
    one_bit[0] = POLY;
    for (n, row) in one_bit.iter_mut().enumerate().skip(1) {
        *row = 1u64 << (n - 1);
    }
    // Squared twice: the operator for four zero bits. Each turn squares it again (one zero
    // byte the first time, then two, four...) and applies it where `len2` has a one bit.
    let mut op = square(&square(&one_bit));
    let (mut crc1, mut len2) = (crc1, len2);
    while len2 != 0 {
        op = square(&op);
        if len2 & 1 == 1 {
            crc1 = times(&op, crc1);
        }
        len2 >>= 1;
    }
    crc1 ^ crc2
}

/// The whole object's CRC32, CRC32C or CRC64NVME as the store keeps it (`FULL_OBJECT`, from a HEAD),
/// checked from ranges of any size, each hashed as it streams, then combined: a few GB/s, where
/// a multipart ETag needs MD5 and the upload's part size.
#[derive(Clone, Debug)]
pub(crate) struct WholeCrc {
    algorithm: ChecksumAlgorithm,
    expected: String,
}

impl WholeCrc {
    /// The check for a stored checksum, when it is a whole-object CRC.
    pub(crate) fn for_stored(stored: &Checksum) -> Option<WholeCrc> {
        let crc = stored.algorithm.full_object();
        (crc && stored.is_whole()).then(|| WholeCrc { algorithm: stored.algorithm, expected: stored.value.clone() })
    }

    /// A running CRC for one range.
    pub(crate) fn range_check(&self) -> BodyCheck {
        BodyCheck {
            running: self.algorithm.running(),
            expected: String::new(),
            how: Verified::Checksum(self.algorithm),
        }
    }

    /// Whether the ranges (in order, with their sizes) make the stored CRC.
    pub(crate) fn finish(&self, ranges: &[Option<BodyCheck>], sizes: &[u64]) -> Result<Verified, String> {
        let mut pieces = Vec::with_capacity(ranges.len());
        let mut whole64: Option<u64> = None;
        for (r, size) in ranges.iter().zip(sizes) {
            match r.as_ref().map(|c| &c.running) {
                Some(Running::Crc32(h)) => pieces.push((h.clone().finalize(), *size)),
                Some(Running::Crc32c(c)) => pieces.push((*c, *size)),
                Some(Running::Crc64(d)) => {
                    let crc = d.clone().finalize();
                    whole64 = Some(whole64.map_or(crc, |w| crc64nvme_combine(w, crc, *size)));
                }
                _ => return Err("a range was not hashed".to_owned()),
            }
        }
        let got = match whole64 {
            Some(w) => Some(cirrus_sigv4::base64(&w.to_be_bytes())),
            None => combine_crc32(self.algorithm, &pieces).map(|c| cirrus_sigv4::base64(&c.to_be_bytes())),
        };
        if ranges.len() == sizes.len() && got.as_deref() == Some(self.expected.as_str()) {
            return Ok(Verified::Checksum(self.algorithm));
        }
        Err(format!(
            "the bytes received do not match the object's stored {} checksum ({} expected, {} received)",
            self.algorithm,
            self.expected,
            got.unwrap_or_default()
        ))
    }
}

/// A 4-byte value in base64, as S3 writes a CRC32.
fn decode_crc32(b64: &str) -> Option<u32> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let b = b64.as_bytes();
    if b.len() != 8 || &b[6..] != b"==" {
        return None;
    }
    let mut bits = 0u64;
    for &c in &b[..6] {
        bits = (bits << 6) | u64::from(digit(c)?);
    }
    // 36 bits: the 32 of the value, then 4 zero bits.
    (bits & 0xF == 0).then_some((bits >> 4) as u32)
}

/// A running digest of one of S3's algorithms.
#[derive(Clone)]
enum Running {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Sha256(sha2::Sha256),
    Md5(md5::Md5),
    Crc64(crc::Digest<'static, u64, crc::Table<16>>),
}

impl Running {
    fn update(&mut self, data: &[u8]) {
        use sha2::Digest;
        match self {
            Running::Crc32(h) => h.update(data),
            Running::Crc32c(c) => *c = crc32c::crc32c_append(*c, data),
            Running::Sha256(h) => h.update(data),
            Running::Md5(h) => md5::Digest::update(h, data),
            Running::Crc64(d) => d.update(data),
        }
    }

    /// The digest as S3 writes it: base64 for checksums, lower-case hex for an MD5 ETag.
    fn finish(self) -> String {
        use sha2::Digest;
        match self {
            Running::Crc32(h) => cirrus_sigv4::base64(&h.finalize().to_be_bytes()),
            Running::Crc32c(c) => cirrus_sigv4::base64(&c.to_be_bytes()),
            Running::Sha256(h) => cirrus_sigv4::base64(&h.finalize()),
            Running::Md5(h) => md5::Digest::finalize(h).iter().map(|b| format!("{b:02x}")).collect(),
            Running::Crc64(d) => cirrus_sigv4::base64(&d.finalize().to_be_bytes()),
        }
    }
}

/// How a download was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verified {
    /// Against the checksum stored with the object.
    Checksum(ChecksumAlgorithm),
    /// Against the ETag, the MD5 of a single-part object stored without SSE-KMS or SSE-C.
    Md5,
}

/// Checks the bytes of a whole object as they stream in, against what the answer's headers
/// say they are: the stored checksum (asked for with `x-amz-checksum-mode: ENABLED`), or for a
/// single-part object with neither SSE-KMS nor SSE-C, the MD5 in its ETag.
#[derive(Clone)]
pub(crate) struct BodyCheck {
    running: Running,
    expected: String,
    how: Verified,
}

impl fmt::Debug for BodyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyCheck").field("how", &self.how).field("expected", &self.expected).finish()
    }
}

impl BodyCheck {
    /// The check for the whole body of a GetObject answer, or `None` when its headers give
    /// nothing to check against (a composite checksum or a multipart ETag, an encrypted
    /// object's ETag, no ETag).
    pub(crate) fn for_answer(headers: &http::HeaderMap) -> Option<BodyCheck> {
        if let Some(c) = Checksum::from_headers(headers).filter(Checksum::is_whole) {
            let running = c.algorithm.running();
            return Some(BodyCheck { running, expected: c.value, how: Verified::Checksum(c.algorithm) });
        }
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let encrypted = text("x-amz-server-side-encryption").is_some_and(|v| v.starts_with("aws:kms"))
            || text("x-amz-server-side-encryption-customer-algorithm").is_some();
        let etag = text("etag")?.trim().trim_start_matches("W/").trim_matches('"');
        let is_md5 = etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit());
        (is_md5 && !encrypted).then(|| BodyCheck {
            running: Running::Md5(<md5::Md5 as md5::Digest>::new()),
            expected: etag.to_ascii_lowercase(),
            how: Verified::Md5,
        })
    }

    /// More of the body, in order.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.running.update(data);
    }

    /// How the body was verified, or what did not match.
    pub(crate) fn finish(self) -> Result<Verified, String> {
        let got = self.running.finish();
        if got == self.expected {
            return Ok(self.how);
        }
        let what = match self.how {
            Verified::Checksum(a) => format!("the object's stored {a} checksum"),
            Verified::Md5 => "the MD5 in the object's ETag".to_owned(),
        };
        Err(format!("the bytes received do not match {what} ({} expected, {got} received)", self.expected))
    }
}

/// The ETag of a multipart upload, `"<MD5 of the parts' MD5s>-<parts>"`, checked from the MD5s
/// of ranges that are those parts: a download in ranges of the upload's part size (the AWS
/// CLI's and cirrus's default of 8 MiB, or the same setting on both sides) is verified without
/// reading anything twice.
#[derive(Clone, Debug)]
pub(crate) struct PartsEtag {
    expected: String,
    parts: usize,
}

impl PartsEtag {
    /// The check for an object of `total` bytes fetched in ranges of `part` bytes, when its
    /// ETag is a multipart one with as many parts and it is not encrypted with SSE-KMS or
    /// SSE-C (whose ETags are no MD5s).
    pub(crate) fn for_ranges(etag: &str, encrypted: bool, total: u64, part: u64) -> Option<PartsEtag> {
        let (hex, parts) = etag.trim().trim_start_matches("W/").trim_matches('"').split_once('-')?;
        let parts: u64 = parts.parse().ok()?;
        let is_md5 = hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        (is_md5 && !encrypted && part > 0 && parts == total.div_ceil(part) && parts > 0)
            .then(|| PartsEtag { expected: hex.to_ascii_lowercase(), parts: parts as usize })
    }

    /// A running MD5 for one range.
    pub(crate) fn range_check() -> BodyCheck {
        BodyCheck {
            running: Running::Md5(<md5::Md5 as md5::Digest>::new()),
            expected: String::new(),
            how: Verified::Md5,
        }
    }

    /// Whether the ranges' MD5s (in order) make the ETag; when not, what they make (to compare
    /// with another download of the same object) and what to say.
    pub(crate) fn finish(&self, ranges: &[Option<BodyCheck>]) -> Result<Verified, (String, String)> {
        use md5::Digest;
        if ranges.len() != self.parts {
            let what = format!("{} ranges for the {} parts of the ETag", ranges.len(), self.parts);
            return Err((String::new(), what));
        }
        let mut all = md5::Md5::new();
        for r in ranges {
            let Some(BodyCheck { running: Running::Md5(h), .. }) = r else {
                return Err((String::new(), "a range was not hashed".to_owned()));
            };
            all.update(h.clone().finalize());
        }
        let got: String = all.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if got == self.expected {
            Ok(Verified::Md5)
        } else {
            let what = format!(
                "the bytes received do not match the object's multipart ETag ({}-{} expected, {got}-{} received)",
                self.expected, self.parts, self.parts
            );
            Err((got, what))
        }
    }
}

/// What an ETag says of the bytes, when it is an MD5 form: a single part's MD5, or a multipart
/// upload's MD5 of its parts' MD5s and their count. (An SSE-KMS or SSE-C object's ETag looks
/// the same and is neither: a mismatch against one proves nothing by itself.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EtagForm {
    Single(String),
    Multipart(String, u64),
}

impl EtagForm {
    pub(crate) fn parse(etag: &str) -> Option<EtagForm> {
        let t = etag.trim().trim_start_matches("W/").trim_matches('"');
        let (hex, parts) = match t.split_once('-') {
            Some((hex, n)) => (hex, Some(n.parse::<u64>().ok().filter(|n| *n > 0)?)),
            None => (t, None),
        };
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let hex = hex.to_ascii_lowercase();
        Some(match parts {
            None => EtagForm::Single(hex),
            Some(n) => EtagForm::Multipart(hex, n),
        })
    }

    /// The part size a multipart ETag of an object of `size` bytes was most likely made with:
    /// `preferred` (this client's), else the first of the sizes tools use by default that
    /// gives as many parts.
    pub(crate) fn part_size(&self, size: u64, preferred: u64) -> Option<u64> {
        self.part_sizes(size, preferred).into_iter().next()
    }

    /// Every usual part size (`preferred` first) that gives an object of `size` bytes as many
    /// parts as the ETag says: 16 and 15 MiB both fit many objects.
    pub(crate) fn part_sizes(&self, size: u64, preferred: u64) -> Vec<u64> {
        let EtagForm::Multipart(_, n) = self else { return Vec::new() };
        const MIB: u64 = 1 << 20;
        let mut out = Vec::new();
        for p in [preferred, 8 * MIB, 5 * MIB, 16 * MIB, 15 * MIB, 32 * MIB, 64 * MIB, 100 * MIB, 128 * MIB] {
            if p > 0 && size.div_ceil(p) == *n && !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// What the first pass over an upload part found, before the part is streamed from the file.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartDigests {
    /// The SHA-256, lower-case hex: the signed payload hash.
    pub(crate) sha256_hex: Option<String>,
    /// The MD5, lower-case hex: what a resume journal records.
    pub(crate) md5_hex: Option<String>,
    /// S3's checksums of the part, one per algorithm asked for.
    pub(crate) sums: Vec<Checksum>,
}

impl PartDigests {
    /// The checksum of `algorithm`, when it was computed.
    pub(crate) fn sum(&self, algorithm: ChecksumAlgorithm) -> Option<&Checksum> {
        self.sums.iter().find(|c| c.algorithm == algorithm)
    }
}

/// What [`part_digests`] computes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wanted {
    pub(crate) sha256: bool,
    pub(crate) md5: bool,
    pub(crate) sums: Vec<ChecksumAlgorithm>,
}

/// The digests of `len` bytes of `file` from `offset`, read once in chunks of `chunk` bytes
/// (positioned reads, on the calling blocking thread): memory is one chunk, not the range. A
/// file shorter than the range is an `UnexpectedEof` error.
pub(crate) fn part_digests(
    file: &std::fs::File,
    (offset, len): (u64, u64),
    want: &Wanted,
    chunk: usize,
) -> std::io::Result<PartDigests> {
    use sha2::Digest;
    let mut buf = vec![0u8; chunk.max(1).min(usize::try_from(len).unwrap_or(usize::MAX)).max(1)];
    let mut sha = want.sha256.then(sha2::Sha256::new);
    let mut md5 = want.md5.then(md5::Md5::new);
    let mut sums: Vec<(ChecksumAlgorithm, Running)> = want.sums.iter().map(|&a| (a, a.running())).collect();
    let mut at = offset;
    let end = offset + len;
    while at < end {
        let n = ((end - at) as usize).min(buf.len());
        let data = &mut buf[..n];
        crate::fs::read_exact_at(file, data, at)?;
        if let Some(h) = &mut sha {
            h.update(&*data);
        }
        if let Some(h) = &mut md5 {
            md5::Digest::update(h, &*data);
        }
        for (_, r) in &mut sums {
            r.update(data);
        }
        at += n as u64;
    }
    Ok(PartDigests {
        sha256_hex: sha.map(|h| cirrus_sigv4::hex(&h.finalize())),
        md5_hex: md5.map(|h| cirrus_sigv4::hex(&md5::Digest::finalize(h))),
        sums: sums.into_iter().map(|(algorithm, r)| Checksum { algorithm, value: r.finish() }).collect(),
    })
}

/// The multipart ETag form of the first `size` bytes of `file` in parts of `part` bytes, read
/// back from the disk (positioned reads, 1 MiB at a time).
pub(crate) fn multipart_form_of(file: &std::fs::File, size: u64, part: u64) -> std::io::Result<EtagForm> {
    use md5::Digest;
    let mut buf = vec![0u8; 1 << 20];
    let mut all = md5::Md5::new();
    let mut count = 0u64;
    let mut start = 0u64;
    while start < size || count == 0 {
        let end = (start + part).min(size);
        let mut h = md5::Md5::new();
        let mut at = start;
        while at < end {
            let len = ((end - at) as usize).min(buf.len());
            crate::fs::read_exact_at(file, &mut buf[..len], at)?;
            h.update(&buf[..len]);
            at += len as u64;
        }
        all.update(h.finalize());
        count += 1;
        start = end;
        if start >= size {
            break;
        }
    }
    Ok(EtagForm::Multipart(all.finalize().iter().map(|b| format!("{b:02x}")).collect(), count))
}

/// The digests of a local file that sync compares with an object: its ETag's form (the MD5, or
/// with `part_size` the MD5 of the parts' MD5s, `-N` appended) and, when asked, one of S3's
/// checksums of the whole file. Read once, in 1 MiB blocks, on the calling (blocking) thread.
pub(crate) fn file_digests(
    path: &std::path::Path,
    part_size: Option<u64>,
    also: Option<ChecksumAlgorithm>,
) -> std::io::Result<(EtagForm, Option<String>)> {
    use md5::Digest;
    use std::io::Read;
    let mut file = crate::fs::open_file(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut whole = md5::Md5::new();
    let mut parts: Vec<[u8; 16]> = Vec::new();
    let mut part = md5::Md5::new();
    let mut in_part = 0u64;
    let mut other = also.map(ChecksumAlgorithm::running);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut data = &buf[..n];
        if let Some(o) = &mut other {
            o.update(data);
        }
        match part_size {
            None => whole.update(data),
            Some(p) => {
                while !data.is_empty() {
                    let take = ((p - in_part) as usize).min(data.len());
                    part.update(&data[..take]);
                    in_part += take as u64;
                    data = &data[take..];
                    if in_part == p {
                        parts.push(std::mem::take(&mut part).finalize().into());
                        in_part = 0;
                    }
                }
            }
        }
    }
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let form = match part_size {
        None => EtagForm::Single(hex(&whole.finalize())),
        Some(_) => {
            if in_part > 0 || parts.is_empty() {
                parts.push(part.finalize().into());
            }
            let mut all = md5::Md5::new();
            for p in &parts {
                all.update(p);
            }
            EtagForm::Multipart(hex(&all.finalize()), parts.len() as u64)
        }
    };
    Ok((form, other.map(Running::finish)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn whole_object_crcs_are_combined_from_the_parts() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for algorithm in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c] {
            let sums: Vec<(Checksum, u64)> = data
                .chunks(3000)
                .map(|chunk| (Checksum { algorithm, value: algorithm.checksum(chunk) }, chunk.len() as u64))
                .collect();
            let parts: Vec<(Option<&Checksum>, u64)> = sums.iter().map(|(c, n)| (Some(c), *n)).collect();
            let whole = full_object(&parts).unwrap();
            assert_eq!(whole.value, algorithm.checksum(&data), "{algorithm}");
        }
        // Ranges of any size, each hashed, make the stored whole-object CRC.
        for algorithm in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c] {
            let stored = Checksum { algorithm, value: algorithm.checksum(&data) };
            let check = WholeCrc::for_stored(&stored).unwrap();
            let (mut ranges, mut sizes) = (Vec::new(), Vec::new());
            for chunk in data.chunks(4096) {
                let mut c = check.range_check();
                c.update(chunk);
                ranges.push(Some(c));
                sizes.push(chunk.len() as u64);
            }
            assert_eq!(check.finish(&ranges, &sizes), Ok(Verified::Checksum(algorithm)));
            let mut bad = check.range_check();
            bad.update(&data[..4095]);
            ranges[0] = Some(bad);
            assert!(check.finish(&ranges, &sizes).unwrap_err().contains("stored"));
        }
        // CRC-64/NVME, combined over 64 bits, pieces of every size.
        let mut whole = None::<u64>;
        for chunk in data.chunks(1234) {
            let crc = CRC64NVME.checksum(chunk);
            whole = Some(whole.map_or(crc, |w| crc64nvme_combine(w, crc, chunk.len() as u64)));
        }
        assert_eq!(whole, Some(CRC64NVME.checksum(&data)));
        assert_eq!(crc64nvme_combine(7, 9, 0), 7);
        let stored =
            Checksum { algorithm: ChecksumAlgorithm::Crc64Nvme, value: ChecksumAlgorithm::Crc64Nvme.checksum(&data) };
        let check = WholeCrc::for_stored(&stored).unwrap();
        let (mut ranges, mut sizes) = (Vec::new(), Vec::new());
        for chunk in data.chunks(3000) {
            let mut c = check.range_check();
            c.update(chunk);
            ranges.push(Some(c));
            sizes.push(chunk.len() as u64);
        }
        assert_eq!(check.finish(&ranges, &sizes), Ok(Verified::Checksum(ChecksumAlgorithm::Crc64Nvme)));
        let composite = Checksum { algorithm: ChecksumAlgorithm::Crc32, value: "AAAAAA==-3".into() };
        assert!(WholeCrc::for_stored(&composite).is_none());
        assert_eq!(decode_crc32(&ChecksumAlgorithm::Crc32.checksum(b"123456789")), Some(0xCBF4_3926));
        assert_eq!(decode_crc32("AAAAAA=="), Some(0));
        assert_eq!(decode_crc32("AAAAAAA="), None);
    }

    #[test]
    fn files_are_digested_as_etags_and_checksums() {
        let dir = std::env::temp_dir().join(format!("cirrus-digests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, b"hello").unwrap();
        let (form, crc) = file_digests(&path, None, Some(ChecksumAlgorithm::Crc32)).unwrap();
        assert_eq!(form, EtagForm::parse("\"5d41402abc4b2a76b9719d911017c592\"").unwrap());
        assert_eq!(crc.unwrap(), ChecksumAlgorithm::Crc32.checksum(b"hello"));
        // Parts of 2 bytes: "he", "ll", "o".
        use md5::Digest;
        let mut all = md5::Md5::new();
        for p in [&b"he"[..], b"ll", b"o"] {
            all.update(md5::Md5::digest(p));
        }
        let hex: String = all.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let (form, _) = file_digests(&path, Some(2), None).unwrap();
        assert_eq!(form, EtagForm::Multipart(hex, 3));
        assert_eq!(EtagForm::parse("\"x-3\""), None);
        let big = EtagForm::parse(&format!("\"{}-3\"", "a".repeat(32))).unwrap();
        assert_eq!(big.part_size(20 << 20, 8 << 20), Some(8 << 20));
        assert_eq!(big.part_size(12 << 20, 8 << 20), Some(5 << 20));
        assert_eq!(big.part_size(1 << 20, 8 << 20), None);
        let two = EtagForm::parse(&format!("\"{}-7\"", "a".repeat(32))).unwrap();
        assert_eq!(two.part_sizes(100 << 20, 8 << 20), [16 << 20, 15 << 20]);
        // Read back from the disk in parts of 2 bytes: the same form as while writing.
        let f = std::fs::File::open(&path).unwrap();
        assert_eq!(multipart_form_of(&f, 5, 2).unwrap(), file_digests(&path, Some(2), None).unwrap().0);
    }

    #[test]
    fn multipart_etags_are_checked_from_the_parts() {
        use md5::Digest;
        let parts: [&[u8]; 3] = [b"aaaa", b"bbbb", b"cc"];
        let mut all = md5::Md5::new();
        for p in parts {
            all.update(md5::Md5::digest(p));
        }
        let hex: String = all.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let etag = format!("\"{hex}-3\"");
        let check = PartsEtag::for_ranges(&etag, false, 10, 4).unwrap();
        let hashed = |data: &[&[u8]]| -> Vec<Option<BodyCheck>> {
            data.iter()
                .map(|d| {
                    let mut c = PartsEtag::range_check();
                    c.update(d);
                    Some(c)
                })
                .collect()
        };
        assert_eq!(check.finish(&hashed(&parts)), Ok(Verified::Md5));
        assert!(check.finish(&hashed(&[b"aaaa", b"bXbb", b"cc"])).unwrap_err().1.contains("multipart ETag"));
        // Another part size, an encrypted object, a plain ETag: nothing to check.
        assert!(PartsEtag::for_ranges(&etag, false, 10, 5).is_none());
        assert!(PartsEtag::for_ranges(&etag, true, 10, 4).is_none());
        assert!(PartsEtag::for_ranges(&format!("\"{hex}\""), false, 10, 4).is_none());
    }

    #[test]
    fn bodies_are_checked_against_what_the_answer_says() {
        // The MD5 of "hello", in an ETag.
        let md5 = [("etag", "\"5d41402abc4b2a76b9719d911017c592\"")];
        let mut c = BodyCheck::for_answer(&headers(&md5)).unwrap();
        c.update(b"hel");
        c.update(b"lo");
        assert_eq!(c.finish(), Ok(Verified::Md5));
        let mut c = BodyCheck::for_answer(&headers(&md5)).unwrap();
        c.update(b"jello");
        assert!(c.finish().unwrap_err().contains("MD5"));
        // A stored checksum comes first.
        let crc = ChecksumAlgorithm::Crc32c.checksum(b"hello");
        let mut c = BodyCheck::for_answer(&headers(&[md5[0], ("x-amz-checksum-crc32c", &crc)])).unwrap();
        c.update(b"hello");
        assert_eq!(c.finish(), Ok(Verified::Checksum(ChecksumAlgorithm::Crc32c)));
        // CRC-64/NVME, S3's default: checked too.
        let crc64 = ChecksumAlgorithm::Crc64Nvme.checksum(b"hello");
        let mut c = BodyCheck::for_answer(&headers(&[("x-amz-checksum-crc64nvme", &crc64)])).unwrap();
        c.update(b"hellO");
        assert!(c.finish().unwrap_err().contains("CRC64NVME"));
        // Nothing to check against: a multipart ETag, a composite checksum, an encrypted object.
        for h in [
            headers(&[("etag", "\"5d41402abc4b2a76b9719d911017c592-3\"")]),
            headers(&[("etag", "\"0123-x\""), ("x-amz-checksum-crc32", "AAAAAA==-3")]),
            headers(&[md5[0], ("x-amz-server-side-encryption", "aws:kms")]),
            headers(&[md5[0], ("x-amz-server-side-encryption-customer-algorithm", "AES256")]),
            headers(&[]),
        ] {
            assert!(BodyCheck::for_answer(&h).is_none(), "{h:?}");
        }
    }

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
        // CRC-64/NVME's check value in the CRC catalogue, and the same in two pieces.
        assert_eq!(
            ChecksumAlgorithm::Crc64Nvme.checksum(b"123456789"),
            cirrus_sigv4::base64(&0xAE8B_1486_0A79_9888u64.to_be_bytes())
        );
        let mut running = ChecksumAlgorithm::Crc64Nvme.running();
        running.update(b"1234");
        running.update(b"56789");
        assert_eq!(running.finish(), ChecksumAlgorithm::Crc64Nvme.checksum(b"123456789"));
    }

    #[test]
    fn names_parse_in_any_case() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(a.as_str().to_lowercase().parse::<ChecksumAlgorithm>().ok(), Some(a));
        }
        assert!("md5".parse::<ChecksumAlgorithm>().unwrap_err().to_string().contains("md5"));
    }
}
