#!/usr/bin/env bash
# S3 side by side: cirrus vs aws-sdk-s3 against one loopback s3s-fs server, in one run.
# Upload and download of 64 MiB and 1 GiB (every download checked byte for byte), listing
# 10,000 keys; each run in its own process under /usr/bin/time -v for the peak RSS.
#   bench/compare/s3.sh [ROUNDS_SMALL] [ROUNDS_LARGE]      (defaults 5 and 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/servers.sh
start_s3s

echo "== building bench/compare's s3 program (release)"
cargo build --quiet --release --manifest-path bench/compare/Cargo.toml --bin s3

work=$(mktemp -d "${TMPDIR:-/tmp}/cirrus-s3-bench.XXXXXX")
SERVER_DIRS+=("$work")
head -c $((64 << 20)) /dev/urandom >"$work/64MiB"
head -c $((1 << 30)) /dev/urandom >"$work/1GiB"

AWS_ACCESS_KEY_ID=$CIRRUS_S3S_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$CIRRUS_S3S_SECRET_KEY \
  AWS_REGION=us-east-1 AWS_ENDPOINT_URL=$CIRRUS_S3S_URL \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  python3 bench/compare/s3_report.py bench/compare/target/release/s3 "$work" "${1:-5}" "${2:-3}"
