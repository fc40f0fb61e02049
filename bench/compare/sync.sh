#!/usr/bin/env bash
# A sync with nothing to do, side by side: `cirrus s3 sync` vs `aws s3 sync` (the AWS CLI v2,
# /usr/bin/aws) over FILES files (10,000 of 1 KiB), through bench/compare/relay.py adding
# DELAY_MS (10) each way in front of one s3s-fs server (data on /dev/shm). The tree is uploaded
# once (directly, no relay), its files dated an hour back; then each tool syncs it ROUNDS times
# in turn and must find nothing to send (a run that prints an upload line fails the bench).
# Then CHANGED (1,000) files are grown by a byte before each run, and each tool must send
# exactly those.
#
#   bench/compare/sync.sh [ROUNDS]          (default 3)
#
# Environment: FILES=10000, DELAY_MS=10, CIRRUS_BIN=target/release/cirrus (build it first:
# cargo build --release -p cirrus-cli), BENCH_DIR=/dev/shm. Prints each run's wall time, the
# medians and the ratio.
set -euo pipefail
[ -n "${KEEP_FOR_PROFILE:-}" ] && trap - EXIT
cd "$(dirname "$0")/../.."

ROUNDS=${1:-${ROUNDS:-3}} FILES=${FILES:-10000} DELAY_MS=${DELAY_MS:-10}
CIRRUS_BIN=${CIRRUS_BIN:-target/release/cirrus} BENCH_DIR=${BENCH_DIR:-/dev/shm}
[ -x "$CIRRUS_BIN" ] || { echo "no cirrus binary at $CIRRUS_BIN: cargo build --release -p cirrus-cli" >&2; exit 2; }
[ -x /usr/bin/aws ] || { echo "== apt-get install awscli"; apt-get update -qq && apt-get install -y -qq awscli >/dev/null; }

source scripts/lib/servers.sh
ensure_venv
start_s3s "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/cirrus-sync-bench.XXXXXX")
SERVER_DIRS+=("$WORK")

python3 bench/compare/relay.py --listen-port 0 --target-port "${CIRRUS_S3S_URL##*:}" --delay-ms "$DELAY_MS" \
  >"$WORK/relay.port" 2>"$WORK/relay.log" &
SERVER_PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/relay.port" ] && break; sleep 0.1; done
RELAY_URL="http://127.0.0.1:$(head -n1 "$WORK/relay.port")"
echo "== relay.py on $RELAY_URL -> $CIRRUS_S3S_URL, $DELAY_MS ms each way"

export AWS_ACCESS_KEY_ID=$CIRRUS_S3S_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$CIRRUS_S3S_SECRET_KEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export HOME=$WORK AWS_CONFIG_FILE=$WORK/config
printf '[default]\n' > "$AWS_CONFIG_FILE"

echo "== $FILES files of 1 KiB, dated an hour back, uploaded once"
python3 - "$WORK/tree" "$FILES" <<'EOF'
import os, sys, time
root, n = sys.argv[1], int(sys.argv[2])
then = time.time() - 3600
for i in range(n):
    d = os.path.join(root, f"d{i % 100:02d}")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, f"f{i:05d}.bin")
    with open(p, "wb") as f:
        f.write(os.urandom(1024))
    os.utime(p, (then, then))
EOF
"$CIRRUS_BIN" --endpoint-url "$CIRRUS_S3S_URL" s3 mb s3://sync-bench >/dev/null
"$CIRRUS_BIN" --endpoint-url "$CIRRUS_S3S_URL" s3 cp --recursive --only-show-errors "$WORK/tree" s3://sync-bench/t/

# Grows CHANGED files by one byte (a new size: both tools must send them), dated an hour back.
CHANGED=${CHANGED:-1000}
change() {
  python3 - "$WORK/tree" "$CHANGED" "$1" <<'EOF2'
import os, sys, time
root, n, salt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
then = time.time() - 3600
for i in range(n):
    p = os.path.join(root, f"d{i % 100:02d}", f"f{i:05d}.bin")
    with open(p, "ab") as f:
        f.write(salt.encode()[:1])
    os.utime(p, (then, then))
EOF2
}

run() {
  local tool=$1 start end out
  start=$(date +%s.%N)
  if [ "$tool" = cirrus ]; then
    out=$("$CIRRUS_BIN" --endpoint-url "$RELAY_URL" s3 sync "$WORK/tree" s3://sync-bench/t/ 2>&1)
  else
    out=$(/usr/bin/aws --endpoint-url "$RELAY_URL" s3 sync "$WORK/tree" s3://sync-bench/t/ 2>&1)
  fi
  end=$(date +%s.%N)
  local sent
  sent=$(grep -c "upload:" <<<"$out" || true)
  if [ "$sent" != "${EXPECT:-0}" ]; then
    echo "$tool sent $sent files, expected ${EXPECT:-0}:" >&2
    head -5 <<<"$out" >&2
    exit 1
  fi
  python3 -c "print(f'{$end - $start:.2f}')"
}

declare -A times
for r in $(seq "$ROUNDS"); do
  for tool in cirrus aws; do
    t=$(run "$tool")
    times[$tool]+="$t "
    echo "round $r: $tool $t s"
  done
done
report() {
  python3 - "$1" "$2" "$3" <<'EOF'
import statistics, sys
c = [float(x) for x in sys.argv[2].split()]
a = [float(x) for x in sys.argv[3].split()]
mc, ma = statistics.median(c), statistics.median(a)
print(f"{sys.argv[1]}: median cirrus {mc:.2f} s, aws {ma:.2f} s; aws / cirrus = {ma / mc:.1f}x")
EOF
}

echo "== $CHANGED files changed before each run"
declare -A changed
for r in $(seq "$ROUNDS"); do
  for tool in cirrus aws; do
    change "$tool$r"
    t=$(EXPECT=$CHANGED run "$tool")
    changed[$tool]+="$t "
    echo "round $r: $tool $t s"
  done
done
report "nothing to do" "${times[cirrus]}" "${times[aws]}"
report "$CHANGED changed" "${changed[cirrus]}" "${changed[aws]}"
