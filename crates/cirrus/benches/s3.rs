//! Reading a full ListObjectsV2 page: 1,000 keys, URL-encoded as cirrus asks for them.
//! `cargo bench -p cirrus --features s3 --bench s3`

use cirrus::s3::ListPage;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write;
use std::hint::black_box;

/// A page as S3 sends it for `list-type=2&encoding-type=url` (about 330 KB).
fn page(keys: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>example-bucket</Name><Prefix>logs%2F</Prefix>\
         <KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType>\
         <IsTruncated>true</IsTruncated>",
    );
    for i in 0..keys {
        let _ = write!(
            s,
            "<Contents><Key>logs%2F2026%2F11%2F22%2Fapp+server%20{i:05}.log.gz</Key>\
             <LastModified>2026-11-22T10:{:02}:{:02}.000Z</LastModified>\
             <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>\
             <ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>\
             <Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            i / 60 % 60,
            i % 60,
            1000 + i * 37
        );
    }
    s.push_str(
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>\
         <StartAfter></StartAfter></ListBucketResult>",
    );
    s
}

fn list_page(c: &mut Criterion) {
    let body = page(1000);
    let parsed = ListPage::from_xml(body.as_bytes()).expect("the page parses");
    assert_eq!(parsed.objects.len(), 1000);
    assert_eq!(parsed.objects[7].key, "logs/2026/11/22/app+server 00007.log.gz");
    assert_eq!(parsed.objects[7].etag.as_deref(), Some("\"9b2cf535f27731c974343645a3985328\""));
    assert!(parsed.next_token.is_some());
    let mut group = c.benchmark_group("s3");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("list_objects_v2_page_1000_keys", |b| {
        b.iter(|| black_box(ListPage::from_xml(black_box(body.as_bytes()))))
    });
    group.finish();
}

criterion_group!(benches, list_page);
criterion_main!(benches);
