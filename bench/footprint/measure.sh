#!/usr/bin/env bash
# Weight and start-up of the same "list a bucket" program built with cirrus (only `s3`) and
# with aws-config + aws-sdk-s3, side by side in one run: clean release build (wall and CPU),
# unique crates, crates with a C build, stripped size, process start to first connect, and
# peak RSS listing 100 keys from a loopback s3s-fs.
#   bench/footprint/measure.sh
# Sources are fetched first, so the build times are compile times, not downloads.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/servers.sh
start_s3s

work=$(mktemp -d "${TMPDIR:-/tmp}/cirrus-footprint.XXXXXX")
SERVER_DIRS+=("$work")
# s3s-fs keeps a bucket as a directory and an object as a file.
mkdir "$CIRRUS_S3S_DATA/listing"
for i in $(seq -w 1 100); do echo "object $i" >"$CIRRUS_S3S_DATA/listing/key-$i.txt"; done

for p in cirrus-ls sdk-ls; do
  manifest=bench/footprint/$p/Cargo.toml
  cargo fetch --quiet --manifest-path "$manifest"
  echo "== clean release build of $p" >&2
  /usr/bin/time -f "%e %U %S" -o "$work/$p.time" \
    cargo build --quiet --release --manifest-path "$manifest" --target-dir "$work/target-$p"
  strip -o "$work/$p" "$work/target-$p/release/$p"
done

AWS_ACCESS_KEY_ID=$CIRRUS_S3S_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$CIRRUS_S3S_SECRET_KEY AWS_REGION=us-east-1 \
  CIRRUS_BENCH_HOME="$work" AWS_EC2_METADATA_DISABLED=true \
  python3 bench/footprint/report.py "$work" "$CIRRUS_S3S_URL"
