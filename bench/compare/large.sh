#!/usr/bin/env bash
# One large object against the server's ceiling (issue 27): a minimal client (src/bin/ceiling.rs:
# N part PUTs or ranged GETs in flight, one HTTP/1.1 connection each, data from memory, nothing
# else) against the cirrus CLI and the AWS CLI v2 at their defaults, against one s3s-fs (checks
# SigV4) whose data lives on /dev/shm.
#
#   Loopback: upload and download of LARGE_MIB (1 GiB), no relay.
#   WAN: the same through relay.py adding DELAY_MS (10) each way (a 20 ms round trip) and
#   capping every connection at RATE_MBPS (20) MB/s each way, as S3 caps a connection (at
#   ~100 MB/s; scaled down so that this machine can fill the link: see BENCHMARKS.md).
#
# First a sweep of the minimal client (one run per point): N in SWEEP_CONNS for part sizes in
# SWEEP_PARTS on loopback, N in SWEEP_CONNS_WAN (8 MiB parts) through the relay. Its best point
# per case is the ceiling. Then ROUNDS rounds in which the ceiling (at its best point), cirrus
# and the AWS CLI take turns; every run is checked: an upload by the SHA-256 of the file s3s-fs
# stored, a download by the SHA-256 of the file written (the minimal client drops what it
# downloads and checks only the lengths when timed, so each of its timed downloads is followed
# by an untimed one that keeps the bytes and checks their SHA-256). The server's (and relay's)
# CPU seconds are read from /proc for every run.
#
#   bench/compare/large.sh [ROUNDS]       (default 3)
#
# Environment: ROUNDS, TOOLS="ceiling cirrus aws" (any subset), LARGE_MIB=1024, DELAY_MS=10,
# RATE_MBPS=20, SKIP_WAN=1, SKIP_LOOPBACK=1, SKIP_SWEEP=1 (then CEILING_LOOP and CEILING_WAN
# name the point, "N:PART_MIB", default 8:8 and 64:8), SWEEP_CONNS="1 2 4 8 16",
# SWEEP_PARTS="8 16", SWEEP_CONNS_WAN="1 2 4 8 16 32 64", PAYLOAD=signed (the minimal client's
# payload hash: `signed`, as cirrus and the AWS CLI send it over http, or `unsigned`),
# CIRRUS_BIN=target/release/cirrus (not built here), CEILING_BIN (built here with ${CARGO:-cargo}
# when missing), BENCH_DIR=/dev/shm, RUN_TIMEOUT=900. Installs Debian's awscli (/usr/bin/aws,
# always called by full path) and time when missing. Each run's output: target/large-bench/.
set -euo pipefail
cd "$(dirname "$0")/../.."

export ROUNDS=${1:-${ROUNDS:-3}} TOOLS=${TOOLS:-ceiling cirrus aws} LARGE_MIB=${LARGE_MIB:-1024}
export DELAY_MS=${DELAY_MS:-10} RATE_MBPS=${RATE_MBPS:-20}
export CIRRUS_BIN=${CIRRUS_BIN:-target/release/cirrus} AWS_BIN=/usr/bin/aws
export CEILING_BIN=${CEILING_BIN:-${CARGO_TARGET_DIR:-bench/compare/target}/release/ceiling}
BENCH_DIR=${BENCH_DIR:-/dev/shm}

for t in $TOOLS; do
  case $t in ceiling|cirrus|aws) ;; *) echo "unknown tool in TOOLS: $t (known: ceiling cirrus aws)" >&2; exit 2 ;; esac
done
if [[ " $TOOLS " == *" cirrus "* && ! -x $CIRRUS_BIN ]]; then
  echo "no cirrus binary at $CIRRUS_BIN: build it (cargo build --release -p cirrus-cli) or set CIRRUS_BIN" >&2
  exit 2
fi
if [ ! -x "$CEILING_BIN" ]; then
  echo "== building bench/compare's ceiling program (release)"
  ${CARGO:-cargo} build --quiet --release --manifest-path bench/compare/Cargo.toml --bin ceiling
fi

need=()
[ -x /usr/bin/aws ] || need+=(awscli)  # the AWS CLI also makes the buckets
[ -x /usr/bin/time ] || need+=(time)
if ((${#need[@]})); then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

source scripts/lib/servers.sh
ensure_venv
start_s3s "$BENCH_DIR"
export S3S_PID=${SERVER_PIDS[-1]}
export S3_URL=$CIRRUS_S3S_URL S3_DATA=$CIRRUS_S3S_DATA

export WORK
WORK=$(mktemp -d "$BENCH_DIR/cirrus-large-bench.XXXXXX")
SERVER_DIRS+=("$WORK")
export LOG_DIR=$PWD/target/large-bench
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR"

# The relay prints its port first; wait for it (its log shows why it did not start).
python3 bench/compare/relay.py --listen-port 0 --target-port "${S3_URL##*:}" --delay-ms "$DELAY_MS" \
  --rate-mbps "$RATE_MBPS" >"$WORK/relay.port" 2>"$LOG_DIR/relay.log" &
export RELAY_PID=$!
SERVER_PIDS+=("$RELAY_PID")
for _ in $(seq 100); do [ -s "$WORK/relay.port" ] && break; sleep 0.1; done
if [ ! -s "$WORK/relay.port" ]; then echo "relay.py did not start; its log:" >&2; cat "$LOG_DIR/relay.log" >&2; exit 1; fi
export RELAY_URL="http://127.0.0.1:$(head -n1 "$WORK/relay.port")"
echo "== relay.py on $RELAY_URL -> $S3_URL, $DELAY_MS ms each way, $RATE_MBPS MB/s per connection and direction"

python3 bench/compare/large_report.py
