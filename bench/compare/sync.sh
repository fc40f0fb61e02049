#!/usr/bin/env bash
# A sync with nothing to do, side by side: `cirrus s3 sync` vs `aws s3 sync` (the AWS CLI v2,
# /usr/bin/aws) vs s3sync (each at its defaults) over FILES files (10,000 of 1 KiB), through
# bench/compare/relay.py adding DELAY_MS (10) each way in front of one s3s-fs server (data on
# /dev/shm). The tree is uploaded once (directly, no relay), its files dated an hour back; then
# each tool syncs it ROUNDS times in turn and must find nothing to send. Then CHANGED (1,000)
# files are grown by a byte before each run, and each tool must send exactly those.
# Every run is checked on the server: the objects it wrote (their files in s3s-fs's data
# directory newer than the run's start) must be exactly 0, or exactly the CHANGED files, and
# afterwards every object must equal its file. A run that fails the check is reported (with
# what it sent) and left out of the medians; the bench then exits 1.
#
#   bench/compare/sync.sh [ROUNDS]          (default 3)
#
# SERVER=garage runs the same against one Garage node (scripts/lib/servers.sh start_garage;
# built once into ~/.cache/cirrus when missing): a store whose listing costs a page, where
# s3s-fs walks and reads the whole bucket for every page. There each run is checked through a
# listing instead of the data directory: the objects dated at or after the run's start (the
# runs are a second apart), and every object's ETag against its file's MD5.
#
# s3sync compares modification times only, by default: a file that grew but is dated before its
# object is not sent (so it fails the CHANGED case); the tool s3sync-size is s3sync with
# --check-size, its switch for comparing sizes instead.
#
# rclone runs with --checksum (sizes, then the files' MD5 against the listed ETags). At its
# default it reads each object's date from its metadata, one HEAD per object, and rewrites every
# object whose date differs from its file's (a server-side copy), so a first run with nothing to
# do would rewrite all 10,000 here; its S3 documentation advises --checksum, --size-only or
# --update --use-server-modtime against that, and --update skips the CHANGED files, older than
# their objects.
#
# Environment: SERVER=s3s-fs (or garage), TOOLS="cirrus aws" (the default; any subset of "cirrus aws rclone s3sync s3sync-size"), FILES=10000,
# CHANGED=1000, DELAY_MS=10, CIRRUS_BIN=target/release/cirrus (build it first: cargo build
# --release -p cirrus-cli), S3SYNC_BIN (default: .tools/s3sync, installed there when missing,
# see peers.sh), BENCH_DIR=/dev/shm. Prints each run's wall time, and a Markdown table of the
# medians and the ratios to cirrus.
set -euo pipefail
[ -n "${KEEP_FOR_PROFILE:-}" ] && trap - EXIT
cd "$(dirname "$0")/../.."

ROUNDS=${1:-${ROUNDS:-3}} FILES=${FILES:-10000} DELAY_MS=${DELAY_MS:-10} TOOLS=${TOOLS:-cirrus aws}
export SERVER=${SERVER:-s3s-fs}
case $SERVER in s3s-fs|garage) ;; *) echo "unknown SERVER: $SERVER (known: s3s-fs garage)" >&2; exit 2 ;; esac
CIRRUS_BIN=${CIRRUS_BIN:-target/release/cirrus} BENCH_DIR=${BENCH_DIR:-/dev/shm}
for t in $TOOLS; do
  case $t in cirrus|aws|rclone|s3sync|s3sync-size) ;;
    *) echo "unknown tool in TOOLS: $t (known: cirrus aws rclone s3sync s3sync-size)" >&2; exit 2 ;;
  esac
done
# cirrus also puts the tree in place, whichever tools are compared.
[ -x "$CIRRUS_BIN" ] || { echo "no cirrus binary at $CIRRUS_BIN: cargo build --release -p cirrus-cli" >&2; exit 2; }
[ -x /usr/bin/aws ] || { echo "== apt-get install awscli"; apt-get update -qq && apt-get install -y -qq awscli >/dev/null; }
if [[ " $TOOLS " == *" rclone "* && ! -x /usr/bin/rclone ]]; then
  echo "== apt-get install rclone"
  apt-get update -qq && apt-get install -y -qq rclone >/dev/null
fi
source bench/compare/peers.sh
[[ " $TOOLS " != *" s3sync"* ]] || ensure_s3sync

source scripts/lib/servers.sh
ensure_venv
if [ "$SERVER" = garage ]; then
  start_garage "$BENCH_DIR"
  S3_URL=$GARAGE_URL KEY_ID=$GARAGE_KEY_ID SECRET=$GARAGE_SECRET REGION=garage
else
  start_s3s "$BENCH_DIR"
  S3_URL=$CIRRUS_S3S_URL KEY_ID=$CIRRUS_S3S_ACCESS_KEY SECRET=$CIRRUS_S3S_SECRET_KEY REGION=us-east-1
fi
WORK=$(mktemp -d "$BENCH_DIR/cirrus-sync-bench.XXXXXX")
SERVER_DIRS+=("$WORK")

python3 bench/compare/relay.py --listen-port 0 --target-port "${S3_URL##*:}" --delay-ms "$DELAY_MS" \
  >"$WORK/relay.port" 2>"$WORK/relay.log" &
SERVER_PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/relay.port" ] && break; sleep 0.1; done
RELAY_URL="http://127.0.0.1:$(head -n1 "$WORK/relay.port")"
echo "== relay.py on $RELAY_URL -> $S3_URL ($SERVER), $DELAY_MS ms each way"

export AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_REGION=$REGION AWS_DEFAULT_REGION=$REGION AWS_EC2_METADATA_DISABLED=true
export HOME=$WORK AWS_CONFIG_FILE=$WORK/config
printf '[default]\n' > "$AWS_CONFIG_FILE"
# rclone's remote `bench:`, from the environment (it runs with --config /dev/null). AWS_CA_BUNDLE
# (set on these machines) is left out: plain http here, and rclone refuses to start with it.
unset AWS_CA_BUNDLE
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=$RELAY_URL
export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$SECRET
export RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true RCLONE_CONFIG_BENCH_REGION=$REGION

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
"$CIRRUS_BIN" --endpoint-url "$S3_URL" s3 mb s3://sync-bench >/dev/null
"$CIRRUS_BIN" --endpoint-url "$S3_URL" s3 cp --recursive --only-show-errors "$WORK/tree" s3://sync-bench/t/

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

# Runs one tool once; prints its wall time, or "failed" (the reason goes to stderr).
run() {
  local tool=$1 start end out rc=0
  # Garage dates objects to the second: a second between runs tells whose writes are whose.
  [ "$SERVER" = s3s-fs ] || sleep 1.1
  start=$(date +%s.%N)
  case $tool in
    cirrus) out=$("$CIRRUS_BIN" --endpoint-url "$RELAY_URL" s3 sync "$WORK/tree" s3://sync-bench/t/ 2>&1) || rc=$? ;;
    aws) out=$(/usr/bin/aws --endpoint-url "$RELAY_URL" s3 sync "$WORK/tree" s3://sync-bench/t/ 2>&1) || rc=$? ;;
    rclone) out=$(/usr/bin/rclone --config /dev/null sync --checksum "$WORK/tree/" bench:sync-bench/t/ 2>&1) || rc=$? ;;
    s3sync) out=$("$S3SYNC_BIN" --target-endpoint-url "$RELAY_URL" --target-force-path-style \
      "$WORK/tree/" s3://sync-bench/t/ 2>&1) || rc=$? ;;
    s3sync-size) out=$("$S3SYNC_BIN" --check-size --target-endpoint-url "$RELAY_URL" --target-force-path-style \
      "$WORK/tree/" s3://sync-bench/t/ 2>&1) || rc=$? ;;
  esac
  end=$(date +%s.%N)
  local problem
  if [ "$SERVER" = garage ]; then
    problem=$(listed_check "$start") || problem="the check's listing failed"
  else
    problem=$(python3 - "$CIRRUS_S3S_DATA/sync-bench/t" "$WORK/tree" "$start" "${EXPECT:-0}" <<'EOF'
import hashlib, os, sys
data, tree, start, want = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
written, wrong = 0, []
for d, _, files in os.walk(tree):
    for name in files:
        rel = os.path.relpath(os.path.join(d, name), tree)
        obj = os.path.join(data, rel)
        try:
            st = os.stat(obj)
        except FileNotFoundError:
            wrong.append(f"{rel}: no object")
            continue
        written += st.st_mtime >= start
        with open(obj, "rb") as a, open(os.path.join(d, name), "rb") as b:
            if a.read() != b.read():
                wrong.append(f"{rel}: the object differs from the file")
if written != want or wrong:
    print(f"sent {written} files, expected {want}; {len(wrong)} objects not equal to their file"
          + (f" (first: {wrong[0]})" if wrong else ""))
EOF
)
  fi
  if [ "$rc" != 0 ] || [ -n "$problem" ]; then
    echo "$tool FAILED the check (exit $rc): ${problem:-its run failed}; its output began:" >&2
    head -c 600 <<<"$out" | sed 's/^/    /' >&2
    echo failed
    return
  fi
  python3 -c "print(f'{$end - $start:.2f}')"
}

# The check of a run on a store whose files cannot be read (Garage): from a listing, the objects
# dated at or after the run's start (to the second), and each object's ETag (an MD5: the tree's
# files go up in one PutObject each) against its file.
listed_check() {
  "$CIRRUS_BIN" --endpoint-url "$S3_URL" s3 ls --recursive --output json s3://sync-bench/t/ >"$WORK/listed.json"
  python3 - "$WORK/listed.json" "$WORK/tree" "$1" "${EXPECT:-0}" <<'EOF'
import hashlib, json, math, os, sys
from datetime import datetime
listed, tree, start, want = sys.argv[1], sys.argv[2], math.floor(float(sys.argv[3])), int(sys.argv[4])
objects = {}
for line in open(listed):
    o = json.loads(line)
    objects[o["Key"][len("t/"):]] = o
written, wrong = 0, []
for d, _, files in os.walk(tree):
    for name in files:
        rel = os.path.relpath(os.path.join(d, name), tree)
        o = objects.get(rel)
        if o is None:
            wrong.append(f"{rel}: no object")
            continue
        written += datetime.fromisoformat(o["LastModified"].replace("Z", "+00:00")).timestamp() >= start
        with open(os.path.join(d, name), "rb") as f:
            if o["ETag"].strip('"') != hashlib.md5(f.read()).hexdigest():
                wrong.append(f"{rel}: the object differs from the file")
if written != want or wrong:
    print(f"sent {written} files, expected {want}; {len(wrong)} objects not equal to their file"
          + (f" (first: {wrong[0]})" if wrong else ""))
EOF
}

version() {
  case $1 in
    cirrus) "$CIRRUS_BIN" --version ;;
    aws) /usr/bin/aws --version ;;
    rclone) /usr/bin/rclone version ;;
    s3sync | s3sync-size) "$S3SYNC_BIN" --version ;;
  esac 2>&1 | head -n1
}

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
declare -A times changed
for r in $(seq "$ROUNDS"); do
  for tool in $TOOLS; do
    t=$(run "$tool")
    times[$tool]+="$t "
    echo "round $r: $tool $t$([ "$t" = failed ] || echo " s")"
  done
done

echo "== $CHANGED files changed before each run"
for r in $(seq "$ROUNDS"); do
  for tool in $TOOLS; do
    change "$tool$r"
    t=$(EXPECT=$CHANGED run "$tool")
    changed[$tool]+="$t "
    echo "round $r: $tool $t$([ "$t" = failed ] || echo " s")"
  done
done

# The table: one row per case and tool, each round, the median of the runs that passed, and
# the ratio to cirrus's median (above 1: cirrus was faster).
rows=()
for tool in $TOOLS; do
  v=$(version "$tool")
  rows+=("nothing to do|$tool|$v|${times[$tool]}" "$CHANGED changed|$tool|$v|${changed[$tool]}")
done
python3 - "$ROUNDS" "$LOAD_START" "${rows[@]}" <<'EOF'
import os, statistics, sys
rounds, load_start, rows = int(sys.argv[1]), sys.argv[2], [r.split("|") for r in sys.argv[3:]]
names = {"cirrus": "cirrus `s3 sync`", "aws": "AWS CLI v2 `s3 sync`", "rclone": "rclone `sync --checksum`", "s3sync": "s3sync",
         "s3sync-size": "s3sync `--check-size`"}
med, failed = {}, False
for case, tool, _, runs in rows:
    ok = [float(x) for x in runs.split() if x != "failed"]
    med[case, tool] = statistics.median(ok) if ok else None
print("\n| case | tool | " + " | ".join(f"round {i + 1}" for i in range(rounds)) + " | median | ratio to cirrus |")
print("| --- | --- |" + " --- |" * rounds + " --- | --- |")
for case, tool, _, runs in sorted(rows, key=lambda r: r[0] != "nothing to do"):
    cells = [x if x == "failed" else f"{x} s" for x in runs.split()]
    failed |= "failed" in cells
    m, c = med[case, tool], med.get((case, "cirrus"))
    ratio = "-" if tool == "cirrus" else ("n/a" if m is None or c is None else f"{m / c:.1f}x")
    print(f"| {case} | {names[tool]} | " + " | ".join(cells) + f" | {'failed' if m is None else f'{m:.2f} s'} | {ratio} |")
print("\nVersions: " + "; ".join(f"{names[t]}: {v}" for c, t, v, _ in rows if c == "nothing to do" and t != "s3sync-size") + ".")
print(f"Server: {os.environ.get('SERVER', 's3s-fs')}. Load average (1 min) at the start and the end: {load_start}, {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs.")
sys.exit(1 if failed else 0)
EOF
