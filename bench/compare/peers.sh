# The Rust peers of the side-by-side S3 benchmarks (transfer.sh, sync.sh), built here when
# missing. CARGO overrides the cargo command (e.g. a wrapper that takes a build lock).

# s3sync from crates.io, pinned, into .tools/s3sync (git-ignored); exports S3SYNC_BIN.
S3SYNC_VERSION=1.62.4
# An S3SYNC_BIN set by the caller is used as it is.
ensure_s3sync() {
  if [ -n "${S3SYNC_BIN:-}" ]; then
    [ -x "$S3SYNC_BIN" ] || { echo "S3SYNC_BIN=$S3SYNC_BIN is not an executable" >&2; return 2; }
    export S3SYNC_BIN
    return 0
  fi
  export S3SYNC_BIN=$PWD/.tools/s3sync/bin/s3sync
  if [ ! -x "$S3SYNC_BIN" ] || ! "$S3SYNC_BIN" --version 2>/dev/null | grep -qF " $S3SYNC_VERSION"; then
    echo "== installing s3sync $S3SYNC_VERSION into .tools/s3sync (once, several minutes)"
    ${CARGO:-cargo} install --locked --force s3sync --version "$S3SYNC_VERSION" --root "$PWD/.tools/s3sync" --quiet
  fi
}

# bench/compare/src/bin/s3transfer.rs (the official transfer manager, aws-sdk-s3-transfer-manager,
# at its defaults), built in release when missing; exports S3TRANSFER_BIN.
ensure_s3transfer() {
  export S3TRANSFER_BIN=${S3TRANSFER_BIN:-${CARGO_TARGET_DIR:-$PWD/bench/compare/target}/release/s3transfer}
  if [ ! -x "$S3TRANSFER_BIN" ]; then
    echo "== building bench/compare's s3transfer (release)"
    ${CARGO:-cargo} build --quiet --release --manifest-path bench/compare/Cargo.toml --bin s3transfer
  fi
}

# bench/compare/src/bin/ceiling.rs (the minimal client: the ceiling of one large object, the
# floor of many small ones), built in release when missing; exports CEILING_BIN.
ensure_ceiling() {
  export CEILING_BIN=${CEILING_BIN:-${CARGO_TARGET_DIR:-$PWD/bench/compare/target}/release/ceiling}
  if [ ! -x "$CEILING_BIN" ]; then
    echo "== building bench/compare's ceiling (release)"
    ${CARGO:-cargo} build --quiet --release --manifest-path bench/compare/Cargo.toml --bin ceiling
  fi
}
