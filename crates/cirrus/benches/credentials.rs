//! A warm cached credential lookup, and the default chain resolving from environment variables
//! (no file, no network). `cargo bench -p cirrus --bench credentials`

use cirrus::credentials::{CredentialsCache, DefaultChain, ProvideCredentials, StaticCredentials};
use cirrus::fs::MemFs;
use cirrus::Context;
use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn cached_lookup(c: &mut Criterion) {
    let creds = cirrus::Credentials::new(
        "AKID",
        "secret",
        Some("token".into()),
        Some(SystemTime::now() + Duration::from_secs(6 * 3600)),
        "bench",
    );
    let cache = CredentialsCache::new(StaticCredentials::from_credentials(creds));
    cache.credentials().now_or_never().expect("ready").expect("credentials");
    c.bench_function("credentials/cache_warm_lookup", |b| b.iter(|| black_box(cache.credentials().now_or_never())));

    c.bench_function("credentials/cache_warm_borrow", |b| {
        b.iter(|| black_box(cache.with_credentials(|c| c.access_key_id().len()).now_or_never()))
    });

    // The same lookup on two threads at once (one per core here): each thread's time per
    // lookup, which stays near the single-thread figure when nothing is contended.
    c.bench_function("credentials/cache_warm_lookup_2_threads", |b| {
        b.iter_custom(|iters| on_two_threads(iters, || black_box(cache.credentials().now_or_never()).is_some()))
    });
    c.bench_function("credentials/cache_warm_borrow_2_threads", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, || {
                black_box(cache.with_credentials(|c| c.access_key_id().len()).now_or_never()).is_some()
            })
        })
    });
}

/// Runs `lookup` `iters` times on each of two threads at once; the wall time of the whole.
fn on_two_threads(iters: u64, lookup: impl Fn() -> bool + Sync) -> Duration {
    let start = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..iters {
                    black_box(lookup());
                }
            });
        }
    });
    start.elapsed()
}

fn chain_from_env(c: &mut Criterion) {
    let env: HashMap<String, String> =
        [("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("AWS_SESSION_TOKEN", "t")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    let ctx = Context::new(Arc::new(env), Arc::new(MemFs::default()));
    let config = cirrus::loader::ConfigLoader::new(ctx.clone()).region(Some("us-east-1")).load().expect("config");
    let chain: DefaultChain = config.chain().expect("chain").clone();
    c.bench_function("credentials/default_chain_from_env", |b| {
        b.iter(|| black_box(chain.provide_credentials().now_or_never()))
    });
}

criterion_group!(benches, cached_lookup, chain_from_env);
criterion_main!(benches);
