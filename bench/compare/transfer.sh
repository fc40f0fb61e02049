#!/usr/bin/env bash
# S3 transfers side by side: the cirrus CLI vs the AWS CLI v2 vs rclone vs s3sync vs the official
# transfer manager for Rust (aws-sdk-s3-transfer-manager, driven by src/bin/s3transfer.rs), each at
# its defaults, against one s3s-fs server (checks SigV4) whose data lives on /dev/shm.
#
#   Small objects over a WAN-like link: FILES files of FILE_KIB KiB (1,000 x 16 KiB), through
#   relay.py adding DELAY_MS (10) each way (a 20 ms round trip): recursive upload to a fresh
#   prefix, recursive download of it to a fresh local directory, recursive S3 -> S3 copy of it.
#   One large object on loopback, no relay: upload and download of LARGE_MIB (1 GiB).
#   The tool `floor` is the floor of the small cases on this machine: bench/compare's minimal
#   client (src/bin/ceiling.rs, tree-up / tree-down / tree-copy), one request per object and
#   FLOOR_CONNS (128, cirrus's default) in flight, nothing else.
#
# Tools take turns round by round; each run is one process under /usr/bin/time -v (wall time,
# peak RSS, CPU), and every result is checked (the combined SHA-256 of the 1,000 files in the
# server's data directory or the download directory, the SHA-256 of the large object).
#
#   bench/compare/transfer.sh [ROUNDS] [ROUNDS_LARGE]     (defaults 3 and 3)
#
# Environment: TOOLS="cirrus aws rclone" (the default; any subset of "cirrus aws rclone s3sync
# s3transfer floor", e.g. TOOLS="floor cirrus aws s3sync s3transfer"), ROUNDS,
# ROUNDS_LARGE, FILES=1000, FILE_KIB=16, SKIP_LARGE=1 (no large cases), LARGE_MIB=1024,
# DELAY_MS=10, CIRRUS_BIN=target/release/cirrus (not built here: build it first),
# BENCH_DIR=/dev/shm (scratch and server data), RUN_TIMEOUT=900 (seconds per run).
# Installs Debian's awscli (/usr/bin/aws, always called by full path: a v1 `aws` may come first
# on PATH), rclone and time with apt-get when missing. s3sync (crates.io, pinned at S3SYNC_VERSION)
# is installed into .tools/s3sync with `cargo install --locked` when missing, and s3transfer is
# built (release, bench/compare's workspace, CARGO_TARGET_DIR honoured) when missing; CARGO
# overrides the cargo command. Each run's output: target/transfer-bench/.
set -euo pipefail
cd "$(dirname "$0")/../.."

export ROUNDS=${1:-${ROUNDS:-3}} ROUNDS_LARGE=${2:-${ROUNDS_LARGE:-3}}
export TOOLS=${TOOLS:-cirrus aws rclone} FILES=${FILES:-1000} FILE_KIB=${FILE_KIB:-16}
export SKIP_LARGE=${SKIP_LARGE:-0} LARGE_MIB=${LARGE_MIB:-1024} DELAY_MS=${DELAY_MS:-10}
export CIRRUS_BIN=${CIRRUS_BIN:-target/release/cirrus} AWS_BIN=/usr/bin/aws RCLONE_BIN=/usr/bin/rclone
BENCH_DIR=${BENCH_DIR:-/dev/shm}

for t in $TOOLS; do
  case $t in cirrus|aws|rclone|s3sync|s3transfer|floor) ;;
    *) echo "unknown tool in TOOLS: $t (known: cirrus aws rclone s3sync s3transfer floor)" >&2; exit 2 ;;
  esac
done
source bench/compare/peers.sh
[[ " $TOOLS " != *" s3sync "* ]] || ensure_s3sync
[[ " $TOOLS " != *" s3transfer "* ]] || ensure_s3transfer
[[ " $TOOLS " != *" floor "* ]] || ensure_ceiling
if [[ " $TOOLS " == *" cirrus "* && ! -x $CIRRUS_BIN ]]; then
  echo "no cirrus binary at $CIRRUS_BIN: build it (cargo build --release -p cirrus-cli), set CIRRUS_BIN, or leave cirrus out (TOOLS=\"aws rclone\")" >&2
  exit 2
fi

need=()
[ -x /usr/bin/aws ] || need+=(awscli)  # the AWS CLI is also what makes the buckets
[[ " $TOOLS " != *" rclone "* || -x /usr/bin/rclone ]] || need+=(rclone)
[ -x /usr/bin/time ] || need+=(time)
if ((${#need[@]})); then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

source scripts/lib/servers.sh
ensure_venv
start_s3s "$BENCH_DIR"
export S3_URL=$CIRRUS_S3S_URL S3_DATA=$CIRRUS_S3S_DATA

export WORK
WORK=$(mktemp -d "$BENCH_DIR/cirrus-transfer-bench.XXXXXX")
SERVER_DIRS+=("$WORK")
export LOG_DIR=$PWD/target/transfer-bench
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR"

# The relay prints its port first; wait for it (its log shows why it did not start).
python3 bench/compare/relay.py --listen-port 0 --target-port "${S3_URL##*:}" --delay-ms "$DELAY_MS" \
  >"$WORK/relay.port" 2>"$LOG_DIR/relay.log" &
SERVER_PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/relay.port" ] && break; sleep 0.1; done
if [ ! -s "$WORK/relay.port" ]; then echo "relay.py did not start; its log:" >&2; cat "$LOG_DIR/relay.log" >&2; exit 1; fi
export RELAY_URL="http://127.0.0.1:$(head -n1 "$WORK/relay.port")"
echo "== relay.py on $RELAY_URL -> $S3_URL, $DELAY_MS ms each way"

python3 bench/compare/transfer_report.py
