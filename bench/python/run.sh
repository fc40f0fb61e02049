#!/usr/bin/env bash
# The Python package (crates/cirrus-py, `cirrus_aws`) against boto3, aioboto3, obstore and aioaws,
# and against the cirrus CLI, in one run (issue 28). Not run in CI; the results go in
# BENCHMARKS.md. One s3s-fs (checks SigV4) with its data on /dev/shm, behind relay.py adding
# DELAY_MS (10) each way (a 20 ms round trip):
#
#   small   FILES (1,000) files of FILE_KIB (16) KiB up and down: S3Client.cp(recursive=True),
#           AsyncS3Client.put/get under asyncio.gather; boto3 upload_file/download_file in a
#           ThreadPoolExecutor of 10 and of 64 threads; aioboto3, obstore and aioaws under gather;
#           the CLI's `s3 cp --recursive`
#   list    LIST_KEYS (10,000) keys: S3Client.list, AsyncS3Client.list, boto3's paginator,
#           obstore.list, the CLI's `s3 ls --recursive`; against one Garage node behind its own
#           relay (LIST_SERVER=garage, the default; built once by scripts/lib/servers.sh,
#           about 20 minutes) or s3s-fs (LIST_SERVER=s3s-fs: its listing walks the bucket)
#   start   import time (-X importtime) and a new process's time to its first HEAD (loopback)
#   large   one LARGE_MIB (1 GiB) file on /dev/shm up and down: upload_file/download_file, cp,
#           boto3 (its TransferManager's defaults), obstore, the CLI; over LARGE_VIA ("relay";
#           "loopback relay" for both: without a bandwidth cap the relay was not the bottleneck)
#
# Each run is a new process under /usr/bin/time -v (peak RSS) and is checked (every byte of
# what was uploaded, in s3s-fs's data directory, or downloaded).
#
#   bench/python/run.sh [ROUNDS]        (default 3)
#
# Environment: CASES="small list start large" (any subset), ROUNDS, FILES, FILE_KIB, LIST_KEYS,
# LARGE_MIB, LARGE_VIA, LIST_SERVER, STARTS=10, BENCH_CONC=128 (requests in flight of the gather cases),
# SMALL_TOOLS, LARGE_TOOLS, LIST_TOOLS (see report.py), DELAY_MS=10, BENCH_DIR=/dev/shm,
# CIRRUS_BIN (default $CARGO_TARGET_DIR/release/cirrus), CARGO (the cargo command for the CLI's
# build, default cargo; maturin runs the `cargo` it finds on PATH), SKIP_BUILD=1 (neither is
# built: the wheel installed in the bench venv and CIRRUS_BIN are used as they are).
# Makes the bench venv .tools/pybench from bench/python/requirements.txt (again when that
# changes), builds the cirrus-aws wheel in release with maturin and installs it there.
# Each run's output: target/pybench/.
set -euo pipefail
cd "$(dirname "$0")/../.."

export ROUNDS=${1:-${ROUNDS:-3}} DELAY_MS=${DELAY_MS:-10}
export CASES=${CASES:-small list start large} LIST_SERVER=${LIST_SERVER:-garage}
case $LIST_SERVER in garage|s3s-fs) ;; *) echo "unknown LIST_SERVER: $LIST_SERVER (garage or s3s-fs)" >&2; exit 2 ;; esac
TARGET=${CARGO_TARGET_DIR:-target}
export CIRRUS_BIN=${CIRRUS_BIN:-$TARGET/release/cirrus}
BENCH_DIR=${BENCH_DIR:-/dev/shm}
VENV=.tools/pybench
export BENCH_PY=$PWD/$VENV/bin/python

[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

if ! cmp -s bench/python/requirements.txt "$VENV/.requirements" 2>/dev/null; then
  echo "== installing bench/python/requirements.txt into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r bench/python/requirements.txt
  cp bench/python/requirements.txt "$VENV/.requirements"
fi

if [ "${SKIP_BUILD:-0}" = 0 ]; then
  echo "== building the cirrus-aws wheel (release) and the cirrus CLI (release)"
  wheels=$TARGET/pybench-wheels
  rm -rf "$wheels"
  "$VENV/bin/maturin" build --quiet --release -m crates/cirrus-py/Cargo.toml -o "$wheels"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheels"/cirrus_aws-*.whl
  ${CARGO:-cargo} build --quiet --release -p cirrus-cli
fi
[ -x "$CIRRUS_BIN" ] || { echo "no cirrus binary at $CIRRUS_BIN (set CIRRUS_BIN)" >&2; exit 2; }

source scripts/lib/servers.sh
ensure_venv
start_s3s "$BENCH_DIR"
export S3_URL=$CIRRUS_S3S_URL S3_DATA=$CIRRUS_S3S_DATA

export WORK
WORK=$(mktemp -d "$BENCH_DIR/cirrus-pybench.XXXXXX")
SERVER_DIRS+=("$WORK")
export LOG_DIR=$PWD/target/pybench
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR"

# relay.py in front of port $1, its URL in the variable named $2; it prints its port first: wait
# for it (its log shows why it did not start).
start_relay() {
  local name=$2
  python3 bench/compare/relay.py --listen-port 0 --target-port "$1" --delay-ms "$DELAY_MS" \
    >"$WORK/$name.port" 2>"$LOG_DIR/$name.log" &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.1; done
  if [ ! -s "$WORK/$name.port" ]; then echo "relay.py did not start; its log:" >&2; cat "$LOG_DIR/$name.log" >&2; exit 1; fi
  export "$name=http://127.0.0.1:$(head -n1 "$WORK/$name.port")"
  echo "== relay.py on ${!name} -> 127.0.0.1:$1, $DELAY_MS ms each way"
}
start_relay "${S3_URL##*:}" RELAY_URL

# The listing runs against Garage, whose listing costs a page: s3s-fs walks the whole bucket for
# every page (0.3-1.5 s a page for 10,000 keys here), which drowns the clients.
if [ "$LIST_SERVER" = garage ] && [[ " $CASES " == *" list "* ]]; then
  start_garage "$BENCH_DIR"
  export LIST_URL=$GARAGE_URL LIST_KEY_ID=$GARAGE_KEY_ID LIST_SECRET=$GARAGE_SECRET LIST_REGION=garage
  start_relay "${LIST_URL##*:}" LIST_RELAY_URL
else
  export LIST_URL=$S3_URL LIST_RELAY_URL=$RELAY_URL LIST_KEY_ID=$CIRRUS_S3S_ACCESS_KEY
  export LIST_SECRET=$CIRRUS_S3S_SECRET_KEY LIST_REGION=us-east-1
fi

python3 bench/python/report.py
