# Shared by scripts/test and scripts/demo: the pinned Python tools in .venv and the local
# servers, each on a free loopback port, stopped when the calling script exits.

# Installs scripts/requirements.txt into .venv when it changed.
ensure_venv() {
  if ! .venv/bin/python -c 'import botocore, moto' 2>/dev/null \
     || ! cmp -s scripts/requirements.txt .venv/.requirements 2>/dev/null; then
    echo "== installing scripts/requirements.txt into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
    cp scripts/requirements.txt .venv/.requirements
  fi
}

free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SERVER_PIDS=()
SERVER_DIRS=()
stop_servers() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for dir in "${SERVER_DIRS[@]}"; do rm -rf "$dir"; done
}
trap stop_servers EXIT

# Waits (up to 30 s) until a Python check passes; otherwise shows the server's log and fails.
wait_for_server() {
  local what=$1 log=$2 check=$3
  for _ in $(seq 100); do
    if .venv/bin/python -c "$check" 2>/dev/null; then return 0; fi
    sleep 0.3
  done
  echo "$what did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

# Starts moto server and exports its URL as CIRRUS_MOTO_URL, or as the variable named by $1.
# Fails (never skips) if it does not come up.
start_moto() {
  local var=${1:-CIRRUS_MOTO_URL} port log
  port=$(free_port)
  mkdir -p target
  log=target/moto-$port.log
  .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  SERVER_PIDS+=($!)
  wait_for_server "moto server on port $port" "$log" \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" || return 1
  export "$var=http://127.0.0.1:$port"
  echo "== moto server on http://127.0.0.1:$port ($var)"
}

# s3s-fs, an S3 server that checks SigV4 signatures, pinned at 0.14.1 (newer releases need a
# newer rustc), built once (~3 min) into ~/.cache/cirrus (or CIRRUS_TOOLS_DIR) and reused.
S3S_VERSION=0.14.1
ensure_s3s() {
  local root="${CIRRUS_TOOLS_DIR:-$HOME/.cache/cirrus}/s3s-fs-$S3S_VERSION"
  S3S_BIN="$root/bin/s3s-fs"
  if [ ! -x "$S3S_BIN" ]; then
    echo "== building s3s-fs $S3S_VERSION into $root (once, about 3 minutes)"
    cargo install "s3s-fs@$S3S_VERSION" --features binary --locked --root "$root" --quiet
  fi
}

# Starts s3s-fs on a free port with a fresh data directory; exports CIRRUS_S3S_URL and the keys
# it accepts (CIRRUS_S3S_ACCESS_KEY, CIRRUS_S3S_SECRET_KEY), and its data directory
# (CIRRUS_S3S_DATA: a bucket is a directory, an object a file). Fails if it does not come up.
# An optional argument names the directory to make the data directory in (default: $TMPDIR or
# /tmp), e.g. /dev/shm for benchmarks that should not measure the disk.
start_s3s() {
  local port log data parent=${1:-${TMPDIR:-/tmp}}
  ensure_s3s
  port=$(free_port)
  data=$(mktemp -d "$parent/cirrus-s3s.XXXXXX")
  log=target/s3s.log
  mkdir -p target
  export CIRRUS_S3S_ACCESS_KEY=AKIDS3S CIRRUS_S3S_SECRET_KEY=s3s-secret-key
  "$S3S_BIN" --host 127.0.0.1 --port "$port" --access-key "$CIRRUS_S3S_ACCESS_KEY" \
    --secret-key "$CIRRUS_S3S_SECRET_KEY" "$data" >"$log" 2>&1 &
  SERVER_PIDS+=($!)
  SERVER_DIRS+=("$data")
  wait_for_server "s3s-fs on port $port" "$log" \
    "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1)" || return 1
  export CIRRUS_S3S_URL="http://127.0.0.1:$port" CIRRUS_S3S_DATA="$data"
  echo "== s3s-fs (checks signatures) on $CIRRUS_S3S_URL"
}
