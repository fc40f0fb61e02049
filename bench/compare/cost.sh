#!/usr/bin/env bash
# How cost grows with the number of objects (issue 27): `s3 ls --recursive`, `s3 sync` with
# nothing to do, `s3 sync` with 1% of the files changed, and `s3 rm --recursive`, at SIZES
# objects (1,000, 10,000 and 100,000 files of 1 KiB in 100 folders, as sync.sh makes them), for
# the cirrus CLI, the AWS CLI v2 (/usr/bin/aws, always by full path), rclone (Debian's) and
# s3sync (its two sync cases: it has no ls or rm), against one s3s-fs (checks every signature)
# with its data on /dev/shm. Each run is one process under
# `/usr/bin/time -f '%e %M %U %S'` (wall seconds, peak RSS in KiB, the client's CPU seconds); tools
# take turns round by round.
#
# Seeding is fast: s3s-fs keeps a bucket as a directory and an object as a file (its ETag is the
# MD5 of the file when no metadata file says otherwise, its LastModified the file's mtime), so
# the local tree, dated an hour back, is copied straight into the data directory (the copies are
# dated now: newer than the local files, same sizes, so a sync has nothing to send). rm re-seeds
# the same way before each run.
#
# The AWS CLI lists a prefix as one chain of pages, and s3s-fs walks and stats the whole bucket for
# every page: at 100,000 objects one page of 1,000 takes it ~3 s, so a listing at the AWS CLI's
# default page size would be ~100 such pages, ~5 minutes of server time, where S3 answers a page
# in about constant time. So every tool gets a page of 100,000 keys (one walk, whatever the
# size): --page-size 100000 for cirrus and the AWS CLI, --s3-list-chunk for rclone, and for
# s3sync --max-keys 32767, its largest (it lists each of the 100 folders on its own anyway, as
# rclone does). Their cost is then their own, which is what this bench is about. (cirrus lists a large tree in
# parallel key ranges, each under the prefix its two ends share: on s3s-fs every page of a range
# reads every key under that prefix, and at 100,000 objects `ls` took 153 s at its defaults.)
#
# How each tool compares a file with its object: cirrus and the AWS CLI, by size and by date
# (the file newer than its object is sent); s3sync with --check-size (by default it compares
# dates only, and a file that grew but is older than its object is not sent: the 1% case);
# rclone with --checksum (sizes, then the files' MD5 against the listed ETags). rclone's default
# reads each object's date from its metadata, one HEAD per object, and rewrites every object
# whose date differs from its file's (a server-side copy); its S3 documentation advises
# --checksum, --size-only or --update --use-server-modtime against that, and --update would skip
# the 1% case's files, older than their objects.
#
# Every run is checked: ls prints N lines; a sync with nothing to do writes no object; with 1%
# changed (each of N/100 files, spread over the folders, grown by a byte before each run) it
# writes exactly N/100 (counted in the bucket's directory: the objects newer than the run's
# start); rm prints N deletions and leaves no file in the bucket's directory.
#
#   bench/compare/cost.sh [ROUNDS]          (default 3)
#
# Environment: SIZES="1000 10000 100000", TOOLS="cirrus aws rclone s3sync",
# OPS="ls sync-noop sync-1pct rm", AWS_PAGE_SIZE=100000 (the AWS CLI's --page-size; empty: its
# default, 1,000: see above), CIRRUS_PAGE_SIZE, RCLONE_LIST_CHUNK (the others' page sizes;
# default: AWS_PAGE_SIZE; empty: their defaults), S3SYNC_MAX_KEYS=32767, S3SYNC_BIN (default: .tools/s3sync,
# installed there when missing, see peers.sh),
# AWS_ROUNDS_AT_MAX (default: ROUNDS) rounds of the AWS CLI at the largest size (its rm sends one
# DeleteObject per key), DELAY_MS=0 (plain loopback; N > 0 puts bench/compare/relay.py in front,
# N ms each way), CIRRUS_BIN=target/release/cirrus (build it first: cargo build --release -p
# cirrus-cli), BENCH_DIR=/dev/shm, RUN_TIMEOUT=900 (seconds per run), OUT_DIR=target/cost-bench
# (cost.csv: one row per run; each run's output; cost.svg drawn by cost_plot.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-${ROUNDS:-3}} SIZES=${SIZES:-1000 10000 100000} TOOLS=${TOOLS:-cirrus aws rclone s3sync}
OPS=${OPS:-ls sync-noop sync-1pct rm} DELAY_MS=${DELAY_MS:-0} RUN_TIMEOUT=${RUN_TIMEOUT:-900}
AWS_ROUNDS_AT_MAX=${AWS_ROUNDS_AT_MAX:-$ROUNDS} AWS_PAGE_SIZE=${AWS_PAGE_SIZE-100000}
CIRRUS_PAGE_SIZE=${CIRRUS_PAGE_SIZE-$AWS_PAGE_SIZE} RCLONE_LIST_CHUNK=${RCLONE_LIST_CHUNK-$AWS_PAGE_SIZE}
S3SYNC_MAX_KEYS=${S3SYNC_MAX_KEYS-32767}
CIRRUS_BIN=${CIRRUS_BIN:-target/release/cirrus} BENCH_DIR=${BENCH_DIR:-/dev/shm}
OUT_DIR=${OUT_DIR:-target/cost-bench}
[ -x "$CIRRUS_BIN" ] || { echo "no cirrus binary at $CIRRUS_BIN: cargo build --release -p cirrus-cli" >&2; exit 2; }
CIRRUS_BIN=$(realpath "$CIRRUS_BIN")
for t in $TOOLS; do
  case $t in cirrus|aws|rclone|s3sync) ;;
    *) echo "unknown tool in TOOLS: $t (known: cirrus aws rclone s3sync)" >&2; exit 2 ;;
  esac
done
need=()
[ -x /usr/bin/aws ] || need+=(awscli)
[[ " $TOOLS " != *" rclone "* ]] || [ -x /usr/bin/rclone ] || need+=(rclone)
[ -x /usr/bin/time ] || need+=(time)
if ((${#need[@]})); then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
source bench/compare/peers.sh
[[ " $TOOLS " != *" s3sync "* ]] || ensure_s3sync
MAX_SIZE=$(tr ' ' '\n' <<<"$SIZES" | sort -n | tail -n1)

source scripts/lib/servers.sh
ensure_venv
start_s3s "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/cirrus-cost-bench.XXXXXX")
SERVER_DIRS+=("$WORK")
rm -rf "$OUT_DIR" && mkdir -p "$OUT_DIR/runs"
CSV=$OUT_DIR/cost.csv
echo "objects,operation,tool,round,seconds,peak_rss_kib,cpu_seconds" >"$CSV"

URL=$CIRRUS_S3S_URL
if [ "$DELAY_MS" != 0 ]; then
  python3 bench/compare/relay.py --listen-port 0 --target-port "${CIRRUS_S3S_URL##*:}" --delay-ms "$DELAY_MS" \
    >"$WORK/relay.port" 2>"$OUT_DIR/relay.log" &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/relay.port" ] && break; sleep 0.1; done
  [ -s "$WORK/relay.port" ] || { echo "relay.py did not start:" >&2; cat "$OUT_DIR/relay.log" >&2; exit 1; }
  URL="http://127.0.0.1:$(head -n1 "$WORK/relay.port")"
  echo "== relay.py on $URL -> $CIRRUS_S3S_URL, $DELAY_MS ms each way"
fi

export AWS_ACCESS_KEY_ID=$CIRRUS_S3S_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$CIRRUS_S3S_SECRET_KEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export HOME=$WORK AWS_CONFIG_FILE=$WORK/config AWS_SHARED_CREDENTIALS_FILE=$WORK/credentials
printf '[default]\n' >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
# rclone's remote `bench:`, from the environment (it runs with --config /dev/null). AWS_CA_BUNDLE
# (set on these machines) is left out: plain http here, and rclone refuses to start with it.
unset AWS_CA_BUNDLE
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=$URL
export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true RCLONE_CONFIG_BENCH_REGION=us-east-1

BUCKET=cost-bench
"$CIRRUS_BIN" --endpoint-url "$CIRRUS_S3S_URL" s3 mb "s3://$BUCKET" >/dev/null
SERVED=$CIRRUS_S3S_DATA/$BUCKET/t  # the objects under s3://cost-bench/t/, as files
TREE=$WORK/tree

# N files of 1 KiB in 100 folders (d00/f000000.bin ...), dated an hour back.
make_tree() {
  rm -rf "$TREE"
  python3 - "$TREE" "$1" <<'EOF'
import os, sys, time
root, n = sys.argv[1], int(sys.argv[2])
then = time.time() - 3600
for d in range(100):
    os.makedirs(os.path.join(root, f"d{d:02d}"))
for i in range(n):
    p = os.path.join(root, f"d{i % 100:02d}", f"f{i:06d}.bin")
    with open(p, "wb") as f:
        f.write(os.urandom(1024))
    os.utime(p, (then, then))
EOF
}

# The bucket's prefix t/ holds exactly the local tree, as objects dated now.
seed() {
  rm -rf "$SERVED"
  find "$CIRRUS_S3S_DATA" -maxdepth 1 -name '.bucket-*' -delete  # ETags of earlier uploads
  cp -r "$TREE" "$SERVED"
}

# Grows N/100 files (one in each of the first ones of every folder) by a byte, dated an hour
# back: a new size that every tool must send.
change() {
  python3 - "$TREE" "$1" <<'EOF'
import os, sys, time
root, n = sys.argv[1], int(sys.argv[2])
then = time.time() - 3600
for i in range(n // 100):
    p = os.path.join(root, f"d{i % 100:02d}", f"f{i:06d}.bin")
    with open(p, "ab") as f:
        f.write(b"+")
    os.utime(p, (then, then))
EOF
}

# The seeded objects are served whole: a GET of one (cirrus checks the body against its MD5 ETag)
# gives the local file, and the AWS CLI sees that ETag too.
check_seed() {
  local key=d00/f000000.bin etag
  "$CIRRUS_BIN" --endpoint-url "$CIRRUS_S3S_URL" s3 cp --quiet "s3://$BUCKET/t/$key" "$WORK/got"
  cmp -s "$WORK/got" "$TREE/$key" || { echo "a seeded object is not its file" >&2; exit 1; }
  etag=$(/usr/bin/aws --endpoint-url "$CIRRUS_S3S_URL" s3api head-object --bucket "$BUCKET" --key "t/$key" \
    --query ETag --output text)
  [ "$etag" = "\"$(md5sum <"$TREE/$key" | cut -d' ' -f1)\"" ] || { echo "ETag $etag is not the file's MD5" >&2; exit 1; }
}

# The command line of TOOL for OP, into the array `cmd`.
command_of() {
  local op=$1 tool=$2
  case $tool in
    cirrus | aws)
      if [ "$tool" = cirrus ]; then cmd=("$CIRRUS_BIN"); else cmd=(/usr/bin/aws); fi
      cmd+=(--endpoint-url "$URL")
      case $op in
        ls) cmd+=(s3 ls --recursive "s3://$BUCKET/t/") ;;
        sync-*) cmd+=(s3 sync "$TREE" "s3://$BUCKET/t/") ;;
        rm) cmd+=(s3 rm --recursive "s3://$BUCKET/t/") ;;
      esac
      local page=$AWS_PAGE_SIZE
      [ "$tool" = aws ] || page=$CIRRUS_PAGE_SIZE
      [ -z "$page" ] || cmd+=(--page-size "$page")
      ;;
    rclone)
      # -v: a line per object copied or deleted. --disable ListR: folder by folder (its sync's
      # default walk), as s3s-fs 0.14.1 takes the empty `delimiter=` of rclone's one-chain
      # listing (ls and delete use it) for a delimiter and answers a common prefix, no keys.
      cmd=(/usr/bin/rclone --config /dev/null -v --disable ListR)
      [ -z "$RCLONE_LIST_CHUNK" ] || cmd+=(--s3-list-chunk "$RCLONE_LIST_CHUNK")
      case $op in
        ls) cmd+=(ls "bench:$BUCKET/t/") ;;
        sync-*) cmd+=(sync --checksum "$TREE/" "bench:$BUCKET/t/") ;;
        rm) cmd+=(delete "bench:$BUCKET/t/") ;;
      esac
      ;;
    s3sync)
      cmd=("$S3SYNC_BIN" --check-size --target-endpoint-url "$URL" --target-force-path-style)
      [ -z "$S3SYNC_MAX_KEYS" ] || cmd+=(--max-keys "$S3SYNC_MAX_KEYS")
      cmd+=("$TREE/" "s3://$BUCKET/t/")
      ;;
  esac
}

# One run: TOOL's command line for OP under /usr/bin/time; checks what it did and appends a CSV
# row.
run() {
  local n=$1 op=$2 tool=$3 round=$4 cmd out tf
  command_of "$op" "$tool"
  out=$OUT_DIR/runs/$n-$op-$tool-$round.out
  tf=$OUT_DIR/runs/$n-$op-$tool-$round.time
  touch "$WORK/started"
  if ! timeout "$RUN_TIMEOUT" /usr/bin/time -o "$tf" -f '%e %M %U %S' "${cmd[@]}" >"$out" 2>&1; then
    echo "$tool $op at $n objects failed (or timed out after $RUN_TIMEOUT s); its output: $out" >&2
    tail -5 "$out" >&2
    exit 1
  fi
  local got want what
  case $op in
    ls) got=$(wc -l <"$out"); want=$n; what="lines listed" ;;
    sync-*)
      got=$(find "$SERVED" -type f -newer "$WORK/started" | wc -l); what="objects written"
      if [ "$op" = sync-noop ]; then want=0; else want=$((n / 100)); fi
      ;;
    rm)
      got=$(grep -cE "delete:|: Deleted" "$out" || true); want=$n; what="deletions printed"
      local left
      left=$(find "$SERVED" -type f 2>/dev/null | wc -l)
      [ "$left" = 0 ] || { echo "$tool rm at $n objects left $left objects" >&2; exit 1; }
      ;;
  esac
  if [ "$got" != "$want" ]; then
    echo "$tool $op at $n objects: $got $what, expected $want; its output: $out" >&2
    head -5 "$out" >&2
    exit 1
  fi
  local secs kib user sys cpu
  read -r secs kib user sys <"$tf"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  echo "$n,$op,$tool,$round,$secs,$kib,$cpu" >>"$CSV"
  awk -v n="$n" -v op="$op" -v t="$tool" -v r="$round" -v s="$secs" -v k="$kib" -v c="$cpu" \
    'BEGIN { printf "%7d %-9s %-6s round %d: %7.2f s %7.1f MiB, CPU %6.2f s\n", n, op, t, r, s, k / 1024, c }'
}

echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
  echo "== $n files of 1 KiB in 100 folders"
  make_tree "$n"
  seed
  check_seed
  for op in $OPS; do
    for r in $(seq "$ROUNDS"); do
      for tool in $TOOLS; do
        if [ "$tool" = aws ] && [ "$n" = "$MAX_SIZE" ] && [ "$r" -gt "$AWS_ROUNDS_AT_MAX" ]; then continue; fi
        # s3sync synchronises; it has no listing or removal of its own.
        if [ "$tool" = s3sync ] && [[ $op != sync-* ]]; then continue; fi
        [ "$op" = sync-1pct ] && change "$n"
        [ "$op" = rm ] && seed
        run "$n" "$op" "$tool" "$r"
      done
    done
  done
  rm -rf "$SERVED"
  echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
rm -rf "$TREE"

python3 bench/compare/cost_plot.py "$CSV" "$OUT_DIR/cost.svg" --table
echo "== $CSV, $OUT_DIR/cost.svg"
