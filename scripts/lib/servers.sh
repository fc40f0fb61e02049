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
stop_servers() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_servers EXIT

# Starts moto server and exports CIRRUS_MOTO_URL. Fails (never skips) if it does not come up.
start_moto() {
  local port log
  port=$(free_port)
  mkdir -p target
  log=target/moto.log
  .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  SERVER_PIDS+=($!)
  for _ in $(seq 100); do
    if .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; then
      export CIRRUS_MOTO_URL="http://127.0.0.1:$port"
      echo "== moto server on $CIRRUS_MOTO_URL"
      return 0
    fi
    sleep 0.3
  done
  echo "moto server did not start on port $port; its log:" >&2
  cat "$log" >&2
  return 1
}
