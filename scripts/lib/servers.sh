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

# Garage (crates.io `garage`, pinned), built once with `cargo install --locked` into a cached
# folder; sets GARAGE. scripts/garage runs three nodes of it, the benchmarks one.
GARAGE_VERSION=2.5.0
ensure_garage() {
  local root="${CIRRUS_TOOLS_DIR:-$HOME/.cache/cirrus}/garage-$GARAGE_VERSION"
  GARAGE="$root/bin/garage"
  if [ ! -x "$GARAGE" ]; then
    echo "== building garage $GARAGE_VERSION into $root (once, about 20 minutes on 2 cores)"
    ${CARGO:-cargo} install "garage@$GARAGE_VERSION" --locked --root "$root" --quiet
  fi
}

# One Garage node (replication 1, sqlite metadata) with its data under $1 (default TMPDIR): a
# store whose listing costs a page, not a walk of the bucket as s3s-fs's does. Exports
# GARAGE_URL (its S3 API, region `garage`), GARAGE_KEY_ID and GARAGE_SECRET (a key that may
# create buckets).
start_garage() {
  local dir rpc s3 key id parent=${1:-${TMPDIR:-/tmp}}
  ensure_garage || return 1
  dir=$(mktemp -d "$parent/cirrus-garage.XXXXXX")
  SERVER_DIRS+=("$dir")
  rpc=$(free_port)
  s3=$(free_port)
  cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"
EOF
  "$GARAGE" -c "$dir/garage.toml" server >"$dir/log" 2>&1 &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do
    "$GARAGE" -c "$dir/garage.toml" node id -q >/dev/null 2>&1 && break
    sleep 0.2
  done
  id=$("$GARAGE" -c "$dir/garage.toml" node id -q) || { echo "garage did not start; its log:" >&2; cat "$dir/log" >&2; return 1; }
  "$GARAGE" -c "$dir/garage.toml" layout assign -z dc1 -c 1G "${id%%@*}" >/dev/null
  "$GARAGE" -c "$dir/garage.toml" layout apply --version 1 >/dev/null
  key=$("$GARAGE" -c "$dir/garage.toml" key create bench)
  "$GARAGE" -c "$dir/garage.toml" key allow --create-bucket bench >/dev/null
  GARAGE_KEY_ID=$(awk '/Key ID:/ {print $3}' <<<"$key")
  GARAGE_SECRET=$(awk '/Secret key:/ {print $3}' <<<"$key")
  if [ -z "$GARAGE_KEY_ID" ] || [ -z "$GARAGE_SECRET" ]; then
    echo "no key in garage's answer: $key" >&2
    return 1
  fi
  export GARAGE_URL="http://127.0.0.1:$s3" GARAGE_KEY_ID GARAGE_SECRET
  echo "== garage $GARAGE_VERSION, one node, on $GARAGE_URL"
}

# tinyproxy and stunnel4 from Debian's packages, installed when missing, and the AWS CLI v2
# (Debian's awscli, at /usr/bin/aws) that the behaviour tests compare cirrus with.
ensure_network_parts() {
  local need=()
  command -v tinyproxy >/dev/null || need+=(tinyproxy)
  command -v stunnel4 >/dev/null || need+=(stunnel4)
  command -v openssl >/dev/null || need+=(openssl)
  [ -x /usr/bin/aws ] || need+=(awscli)
  if [ ${#need[@]} -gt 0 ]; then
    echo "== apt-get install ${need[*]}"
    if ! { apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
           || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }; }; then
      echo "cannot install ${need[*]} (the proxy, TLS and AWS CLI comparison tests need them)" >&2
      return 1
    fi
  fi
}

# Two tinyproxy instances on free ports: an open one (CIRRUS_PROXY_URL, its log in
# CIRRUS_PROXY_LOG) and one that wants basic auth alice:proxy-secret-1 (CIRRUS_AUTH_PROXY_URL,
# without the credentials; CIRRUS_AUTH_PROXY_LOG). Both log every request line.
start_proxies() {
  ensure_network_parts || return 1
  local dir port auth_port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cirrus-proxy.XXXXXX")
  SERVER_DIRS+=("$dir")
  port=$(free_port)
  auth_port=$(free_port)
  for which in open auth; do
    local p=$port
    [ "$which" = auth ] && p=$auth_port
    {
      echo "Port $p"
      echo "Listen 127.0.0.1"
      echo "Timeout 30"
      echo "LogFile \"$dir/$which.log\""
      echo "LogLevel Info"
      echo "MaxClients 100"
      echo "Allow 127.0.0.1"
      echo "DisableViaHeader Yes"
      [ "$which" = auth ] && echo "BasicAuth alice proxy-secret-1"
    } >"$dir/$which.conf"
    : >"$dir/$which.log"
    tinyproxy -d -c "$dir/$which.conf" >"$dir/$which.out" 2>&1 &
    SERVER_PIDS+=($!)
    wait_for_server "tinyproxy ($which) on port $p" "$dir/$which.out" \
      "import socket; socket.create_connection(('127.0.0.1', $p), timeout=1)" || return 1
  done
  export CIRRUS_PROXY_URL="http://127.0.0.1:$port" CIRRUS_PROXY_LOG="$dir/open.log"
  export CIRRUS_AUTH_PROXY_URL="http://127.0.0.1:$auth_port" CIRRUS_AUTH_PROXY_LOG="$dir/auth.log"
  echo "== tinyproxy on $CIRRUS_PROXY_URL, with basic auth on $CIRRUS_AUTH_PROXY_URL"
}

# stunnel in front of moto (CIRRUS_MOTO_URL) with a certificate for localhost and 127.0.0.1
# from a CA made here: exports CIRRUS_TLS_URL (https://localhost:PORT) and CIRRUS_TLS_CA (the
# CA's PEM). When start_proxies ran first, the same stunnel also puts TLS in front of the open
# tinyproxy: CIRRUS_TLS_PROXY_URL (https://localhost:PORT, an https:// proxy; its requests are
# in CIRRUS_PROXY_LOG).
start_tls_front() {
  ensure_network_parts || return 1
  local dir port moto_port proxy_port=
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cirrus-tls.XXXXXX")
  SERVER_DIRS+=("$dir")
  port=$(free_port)
  moto_port=${CIRRUS_MOTO_URL##*:}
  [ -n "${CIRRUS_PROXY_URL:-}" ] && proxy_port=$(free_port)
  (
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -keyout ca.key -out ca.pem -subj "/CN=cirrus test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile ext.cnf -out server.pem
    printf 'foreground = yes\npid =\n[moto]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s/server.pem\nkey = %s/server.key\n' \
      "$port" "$moto_port" "$dir" "$dir" >stunnel.conf
    if [ -n "$proxy_port" ]; then
      printf '[proxy]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s/server.pem\nkey = %s/server.key\n' \
        "$proxy_port" "${CIRRUS_PROXY_URL##*:}" "$dir" "$dir" >>stunnel.conf
    fi
  ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; return 1; }
  stunnel4 "$dir/stunnel.conf" >"$dir/stunnel.log" 2>&1 &
  SERVER_PIDS+=($!)
  wait_for_server "stunnel on port $port" "$dir/stunnel.log" \
    "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1)" || return 1
  export CIRRUS_TLS_URL="https://localhost:$port" CIRRUS_TLS_CA="$dir/ca.pem"
  echo "== stunnel (TLS, a test CA) in front of moto on $CIRRUS_TLS_URL"
  if [ -n "$proxy_port" ]; then
    wait_for_server "stunnel on port $proxy_port" "$dir/stunnel.log" \
      "import socket; socket.create_connection(('127.0.0.1', $proxy_port), timeout=1)" || return 1
    export CIRRUS_TLS_PROXY_URL="https://localhost:$proxy_port"
    echo "== stunnel (TLS, the same CA) in front of tinyproxy on $CIRRUS_TLS_PROXY_URL"
  fi
}

# The IAM Identity Center stand-in (scripts/sso_server.py): exports CIRRUS_SSO_URL.
start_sso() {
  local port_file
  port_file=$(mktemp)
  SERVER_DIRS+=("$port_file")
  .venv/bin/python scripts/sso_server.py >"$port_file" 2>"$port_file.log" &
  SERVER_PIDS+=($!)
  SERVER_DIRS+=("$port_file.log")
  wait_for_server "the SSO stand-in" "$port_file.log" \
    "import socket; socket.create_connection(('127.0.0.1', int(open('$port_file').read())), timeout=1)" || return 1
  export CIRRUS_SSO_URL="http://127.0.0.1:$(cat "$port_file")"
  echo "== IAM Identity Center stand-in on $CIRRUS_SSO_URL"
}
