"""Drives the S3 transfer comparison (see transfer.sh) and prints medians and ratios as Markdown.

Everything comes from the environment that transfer.sh sets up:
  S3_URL, RELAY_URL     s3s-fs directly, and behind relay.py (the WAN-like cases)
  S3_DATA               s3s-fs's data directory (a bucket is a directory, an object a file):
                        uploads and S3 -> S3 copies are checked there, and each round's bucket is
                        removed from it afterwards
  WORK                  scratch directory (sources, downloads)
  LOG_DIR               where each run's output and /usr/bin/time report go (kept)
  TOOLS                 e.g. "cirrus aws rclone s3sync s3transfer"; CIRRUS_BIN, AWS_BIN,
                        RCLONE_BIN, S3SYNC_BIN, S3TRANSFER_BIN
  ROUNDS, FILES, FILE_KIB, ROUNDS_LARGE, LARGE_MIB, SKIP_LARGE, DELAY_MS
  CIRRUS_S3S_ACCESS_KEY, CIRRUS_S3S_SECRET_KEY
Standard library only.
"""
import base64
import glob
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

E = os.environ
S3_URL, RELAY_URL, S3_DATA, WORK = E["S3_URL"], E["RELAY_URL"], E["S3_DATA"], E["WORK"]
TOOLS = E.get("TOOLS", "cirrus aws rclone").split()
ROUNDS = int(E.get("ROUNDS", "3"))
FILES = int(E.get("FILES", "1000"))
FILE_KIB = int(E.get("FILE_KIB", "16"))
ROUNDS_LARGE = int(E.get("ROUNDS_LARGE", "3"))
LARGE_MIB = int(E.get("LARGE_MIB", "1024"))
SKIP_LARGE = E.get("SKIP_LARGE", "0") not in ("", "0")
DELAY_MS = E.get("DELAY_MS", "10")
CIRRUS = E.get("CIRRUS_BIN", "target/release/cirrus")
AWS = E.get("AWS_BIN", "/usr/bin/aws")
RCLONE = E.get("RCLONE_BIN", "rclone")
S3SYNC = E.get("S3SYNC_BIN", ".tools/s3sync/bin/s3sync")
S3TRANSFER = E.get("S3TRANSFER_BIN", "bench/compare/target/release/s3transfer")
CEILING = E.get("CEILING_BIN", "bench/compare/target/release/ceiling")
FLOOR_CONNS = E.get("FLOOR_CONNS", "128")
TIMEOUT = int(E.get("RUN_TIMEOUT", "900"))
LOG_DIR = E.get("LOG_DIR", os.path.join(WORK, "logs"))
NAMES = {"cirrus": "cirrus", "aws": "AWS CLI v2", "rclone": "rclone", "s3sync": "s3sync",
         "s3transfer": "AWS transfer manager", "floor": "minimal client (floor)"}
KNOWN = " ".join(NAMES)
LARGE_NAME = f"{LARGE_MIB // 1024} GiB" if LARGE_MIB % 1024 == 0 else f"{LARGE_MIB} MiB"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# -- environments ------------------------------------------------------------------------------

def base_env():
    """The caller's environment without anything that could point a tool elsewhere."""
    env = {k: v for k, v in E.items()
           if not k.startswith(("AWS_", "RCLONE_")) and k not in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    empty = os.path.join(WORK, "empty-aws-config")
    open(empty, "a").close()
    env.update({
        "AWS_ACCESS_KEY_ID": E["CIRRUS_S3S_ACCESS_KEY"],
        "AWS_SECRET_ACCESS_KEY": E["CIRRUS_S3S_SECRET_KEY"],
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": empty,
        "AWS_SHARED_CREDENTIALS_FILE": empty,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "NO_PROXY": "127.0.0.1,localhost",
    })  # AWS_CA_BUNDLE (set on these machines) is left out on purpose: plain http here
    return env


ENV = base_env()


def rclone_env(url):
    env = dict(ENV)
    env.update({
        "RCLONE_CONFIG_BENCH_TYPE": "s3",
        "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ENDPOINT": url,
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": E["CIRRUS_S3S_ACCESS_KEY"],
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": E["CIRRUS_S3S_SECRET_KEY"],
        "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
    })
    return env


# -- the commands, each tool at its defaults -----------------------------------------------------

def s3(bucket, key=""):
    return f"s3://{bucket}/{key}"


def command(tool, op, url, bucket, local):
    """(argv, env) for one operation. op: upload, download, copy (recursive, prefix up/ ->
    copy/), put, get (one large object)."""
    if tool in ("aws", "cirrus"):
        exe = [AWS] if tool == "aws" else [CIRRUS]
        pre = exe + ["--endpoint-url", url, "s3", "cp"]
        argv = {
            "upload": pre + ["--recursive", local, s3(bucket, "up/")],
            "download": pre + ["--recursive", s3(bucket, "up/"), local],
            "copy": pre + ["--recursive", s3(bucket, "up/"), s3(bucket, "copy/")],
            "put": pre + [local, s3(bucket, "large")],
            "get": pre + [s3(bucket, "large"), local],
        }[op]
        return argv, ENV
    if tool == "rclone":
        # --config /dev/null: an in-memory config, the remote comes from RCLONE_CONFIG_BENCH_*.
        # Prefixes end in "/": rclone then lists them at once; without the slash it first asks
        # (HEAD) whether `up` is a file, s3s-fs answers 500 for a key that is a directory on its
        # disk (real S3: 404), and rclone retries that for ~100 s.
        pre = [RCLONE, "--config", "/dev/null"]
        r = f"bench:{bucket}"
        argv = {
            "upload": pre + ["copy", local, f"{r}/up/"],
            "download": pre + ["copy", f"{r}/up/", local],
            "copy": pre + ["copy", f"{r}/up/", f"{r}/copy/"],
            "put": pre + ["copyto", local, f"{r}/large"],
            "get": pre + ["copyto", f"{r}/large", local],
        }[op]
        return argv, rclone_env(url)
    if tool == "s3sync":
        return s3sync_command(op, url, bucket, local), ENV
    if tool == "floor":
        # bench/compare/src/bin/ceiling.rs: one request per object, FLOOR_CONNS in flight on as
        # many keep-alive connections, nothing else (the small cases only).
        pre = ["--endpoint", url, "--bucket", bucket, "--conns", FLOOR_CONNS]
        argv = {
            "upload": [CEILING, "tree-up", *pre, "--prefix", "up/", "--dir", local or ""],
            "download": [CEILING, "tree-down", *pre, "--prefix", "up/", "--dir", local or ""],
            "copy": [CEILING, "tree-copy", *pre, "--prefix", "up/", "--to", "copy/"],
            "put": None,
            "get": None,
        }[op]
        return argv, ENV
    if tool == "s3transfer":
        # bench/compare/src/bin/s3transfer.rs: the crate at its defaults, the endpoint from the
        # environment (as aws-config reads it), path-style addressing forced (s3s-fs needs it).
        argv = {
            "upload": [S3TRANSFER, "upload", local, bucket, "up/"],
            "download": [S3TRANSFER, "download", bucket, "up/", local],
            "copy": None,  # the crate has no S3 -> S3 copy (see s3transfer.rs)
            "put": [S3TRANSFER, "upload-file", local, bucket, "large"],
            "get": [S3TRANSFER, "download-file", bucket, "large", local],
        }[op]
        return argv, dict(ENV, AWS_ENDPOINT_URL=url)
    raise SystemExit(f"unknown tool {tool!r} (known: {KNOWN})")


def s3sync_command(op, url, bucket, local):
    """s3sync at its defaults (16 workers, an update check by modification time, ETag checks).
    It syncs a directory or a prefix, so a sync to an empty prefix is its `cp --recursive`. One
    large object goes up as the only file of a directory (a hard link to the file) and comes
    down into a directory of its own, then is moved to `local` (see after_run)."""
    src = ["--source-endpoint-url", url, "--source-force-path-style"]
    dst = ["--target-endpoint-url", url, "--target-force-path-style"]
    if op == "put":
        d = os.path.join(WORK, "s3sync-large-src")
        if not os.path.exists(os.path.join(d, "large")):
            os.makedirs(d, exist_ok=True)
            os.link(local, os.path.join(d, "large"))
        return [S3SYNC, *dst, d + "/", s3(bucket)]
    if op == "copy":
        return [S3SYNC, *src, *dst, s3(bucket, "up/"), s3(bucket, "copy/")]
    return {
        "upload": [S3SYNC, *dst, f"{local}/", s3(bucket, "up/")],
        "download": [S3SYNC, *src, s3(bucket, "up/"), f"{local}/"],
        "get": [S3SYNC, *src, s3(bucket), f"{local}.d/"],
    }[op]


def after_run(tool, op, local):
    """What a run leaves where the check looks: s3sync's one-object download is a directory."""
    if tool == "s3sync" and op == "get" and os.path.isfile(os.path.join(local + ".d", "large")):
        os.replace(os.path.join(local + ".d", "large"), local)
    if tool == "s3sync" and op == "get":
        shutil.rmtree(local + ".d", ignore_errors=True)


def crate_version(name):
    """The version of a crate as bench/compare/Cargo.lock resolves it."""
    lock = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Cargo.lock")
    m = re.search(r'name = "' + re.escape(name) + r'"\nversion = "([^"]+)"', open(lock).read())
    return m.group(1) if m else "?"


def version(tool):
    if tool == "floor":
        return f"bench/compare/src/bin/ceiling.rs, {FLOOR_CONNS} requests in flight"
    if tool == "s3transfer":
        return (f"aws-sdk-s3-transfer-manager {crate_version('aws-sdk-s3-transfer-manager')}, "
                f"aws-sdk-s3 {crate_version('aws-sdk-s3')}")
    argv = {"cirrus": [CIRRUS, "--version"], "aws": [AWS, "--version"], "rclone": [RCLONE, "version"],
            "s3sync": [S3SYNC, "--version"]}[tool]
    try:
        p = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=60)
    except OSError as e:
        sys.exit(f"{tool}: cannot run {argv[0]}: {e}")
    out = (p.stdout or p.stderr).strip().splitlines()
    return out[0] if out else "?"


RUN_NO = 0


def run(tool, op, url, bucket, local):
    """Runs one operation under /usr/bin/time -v: (wall s, peak RSS MiB, CPU s) or an error text."""
    global RUN_NO
    RUN_NO += 1
    argv, env = command(tool, op, url, bucket, local)
    if argv is None:
        return None
    tfile = os.path.join(LOG_DIR, f"{RUN_NO:03d}-{tool}-{op}.time")
    lfile = os.path.join(LOG_DIR, f"{RUN_NO:03d}-{tool}-{op}.log")
    with open(lfile, "wb") as out:
        t0 = time.perf_counter()
        try:
            p = subprocess.run(["/usr/bin/time", "-v", "-o", tfile, *argv], env=env, stdout=out,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=TIMEOUT)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        wall = time.perf_counter() - t0
    after_run(tool, op, local)
    if rc != 0:
        with open(lfile, "rb") as f:
            tail = f.read()[-1500:].decode(errors="replace")
        return f"exit {rc} after {wall:.1f} s: {' '.join(argv)}\n{tail}"
    t = open(tfile).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", t))
    return wall, rss, cpu


# -- checks ----------------------------------------------------------------------------------------

def tree_digest(root):
    """(file count, SHA-256 over the sorted 'relative path NUL sha256' lines of every file)."""
    lines = []
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                h = hashlib.file_digest(f, "sha256").hexdigest()
            lines.append(f"{os.path.relpath(p, root)}\0{h}\n")
    lines.sort()
    return len(lines), hashlib.sha256("".join(lines).encode()).hexdigest()


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def make_bucket(bucket):
    p = subprocess.run([AWS, "--endpoint-url", S3_URL, "s3", "mb", s3(bucket)], env=ENV,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"aws s3 mb {s3(bucket)} failed:\n{p.stdout}{p.stderr}")


def seed(bucket, what, local):
    """Puts the source in place with the AWS CLI on loopback (untimed) after a tool's own upload
    failed, so that its download and copy can still be measured."""
    drop_bucket(bucket)
    make_bucket(bucket)
    if what == "up/":
        argv = [AWS, "--endpoint-url", S3_URL, "s3", "cp", "--recursive", "--only-show-errors", local, s3(bucket, "up/")]
    else:
        argv = [AWS, "--endpoint-url", S3_URL, "s3", "cp", "--only-show-errors", local, s3(bucket, what)]
    p = subprocess.run(argv, env=ENV, capture_output=True, text=True)
    if p.returncode != 0:
        log(f"   (could not put the source in place with the AWS CLI either: {p.stderr.strip()[:300]})")
    return p.returncode == 0


def drop_bucket(bucket):
    """Removes a bucket and its objects behind s3s-fs's back (it keeps no other state): the
    server lists by walking the bucket's directory, so leftovers would slow later rounds."""
    shutil.rmtree(os.path.join(S3_DATA, bucket), ignore_errors=True)
    enc = base64.urlsafe_b64encode(bucket.encode()).decode().rstrip("=")
    for p in glob.glob(os.path.join(glob.escape(S3_DATA), f".bucket-{enc}.object-*")):
        os.remove(p)


# -- the benchmark ---------------------------------------------------------------------------------

results = {}  # (case, tool) -> [(wall, rss, cpu)]
failures = {}  # (case, tool) -> [text]
NOT_OFFERED = {"s3transfer": "n/a: the crate has no S3 -> S3 copy",
               "floor": "n/a: see large.sh for the ceiling of one large object"}
unsupported = set()  # (case, tool): the tool has no such operation


def record(case, tool, res, check=None):
    """Stores a run; check() returns None when the result is right, else what is wrong. A None
    result is an operation the tool does not offer."""
    if res is None:
        unsupported.add((case, tool))
        log(f"   {tool:7} {case:32} {NOT_OFFERED.get(tool, 'n/a')}")
        return True
    return record_run(case, tool, res, check)


def record_run(case, tool, res, check):
    if isinstance(res, tuple) and check is not None:
        problem = check()
        if problem:
            res = f"wrong result: {problem}"
    if isinstance(res, tuple):
        results.setdefault((case, tool), []).append(res)
        log(f"   {tool:7} {case:32} {res[0]:7.2f} s  {res[1]:7.1f} MiB  cpu {res[2]:6.2f} s")
        return True
    failures.setdefault((case, tool), []).append(res)
    results.setdefault((case, tool), [])
    log(f"   {tool:7} {case:32} FAILED: {res}")
    return False


def order(r):
    """Tools in a different order each round, so none always meets a warmer server."""
    k = r % len(TOOLS)
    return TOOLS[k:] + TOOLS[:k]


LOAD_START = os.getloadavg()[0]


def main():
    os.makedirs(LOG_DIR, exist_ok=True)
    versions = {t: version(t) for t in TOOLS}
    for t in TOOLS:
        log(f"== {t}: {versions[t]}")
    src = os.path.join(WORK, "files")
    log(f"== making {FILES} files of {FILE_KIB} KiB in {src}")
    for i in range(FILES):
        d = os.path.join(src, f"d{i // 100:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
            f.write(os.urandom(FILE_KIB << 10))
    want = tree_digest(src)
    log(f"   {want[0]} files, combined sha256 {want[1]}")

    def same_tree(path):
        got = tree_digest(path) if os.path.isdir(path) else (0, "missing")
        return None if got == want else f"{path}: {got[0]} files, digest {got[1][:16]}.. (want {want[0]}, {want[1][:16]}..)"

    small = f"{FILES:,} x {FILE_KIB} KiB"
    cases_small = [f"upload {small}", f"download {small}", f"S3->S3 copy {small}"] if ROUNDS > 0 else []
    for r in range(ROUNDS):
        for tool in order(r):
            log(f"== round {r + 1}/{ROUNDS}: {tool}, {small} through the relay ({DELAY_MS} ms each way)")
            bucket = f"{tool}-r{r + 1}"
            make_bucket(bucket)
            up = os.path.join(S3_DATA, bucket, "up")
            ok = record(cases_small[0], tool, run(tool, "upload", RELAY_URL, bucket, src), lambda: same_tree(up))
            if not ok:
                log("   putting the files in place with the AWS CLI, to measure the download and the copy")
                ok = seed(bucket, "up/", src)
            if ok:
                dst = os.path.join(WORK, f"down-{tool}-{r + 1}")
                record(cases_small[1], tool, run(tool, "download", RELAY_URL, bucket, dst), lambda: same_tree(dst))
                shutil.rmtree(dst, ignore_errors=True)
                cp = os.path.join(S3_DATA, bucket, "copy")
                record(cases_small[2], tool, run(tool, "copy", RELAY_URL, bucket, None), lambda: same_tree(cp))
            else:
                for c in cases_small[1:]:
                    failures.setdefault((c, tool), []).append("skipped: no source in place")
                    results.setdefault((c, tool), [])
            drop_bucket(bucket)

    cases_large = []
    if not SKIP_LARGE:
        big = os.path.join(WORK, "large")
        log(f"== making a {LARGE_NAME} file")
        with open(big, "wb") as f:
            for _ in range(LARGE_MIB):
                f.write(os.urandom(1 << 20))
        big_sha = file_sha256(big)
        cases_large = [f"upload {LARGE_NAME} (loopback)", f"download {LARGE_NAME} (loopback)"]

        def same_file(path):
            got = file_sha256(path) if os.path.isfile(path) else "missing"
            return None if got == big_sha else f"{path}: sha256 {got[:16]}.. (want {big_sha[:16]}..)"

        for r in range(ROUNDS_LARGE):
            for tool in order(r):
                log(f"== round {r + 1}/{ROUNDS_LARGE}: {tool}, {LARGE_NAME} on loopback (no relay)")
                bucket = f"{tool}-large-r{r + 1}"
                make_bucket(bucket)
                obj = os.path.join(S3_DATA, bucket, "large")
                ok = record(cases_large[0], tool, run(tool, "put", S3_URL, bucket, big), lambda: same_file(obj))
                if not ok:
                    log("   putting the object in place with the AWS CLI, to measure the download")
                    ok = seed(bucket, "large", big)
                if ok:
                    dst = os.path.join(WORK, f"large-{tool}")
                    record(cases_large[1], tool, run(tool, "get", S3_URL, bucket, dst), lambda: same_file(dst))
                    if os.path.exists(dst):
                        os.remove(dst)
                else:
                    failures.setdefault((cases_large[1], tool), []).append("skipped: no source in place")
                    results.setdefault((cases_large[1], tool), [])
                drop_bucket(bucket)
        os.remove(big)
        shutil.rmtree(os.path.join(WORK, "s3sync-large-src"), ignore_errors=True)

    report(cases_small, cases_large, small, versions)
    if failures:
        log("\nFailures:")
        for (case, tool), texts in failures.items():
            for t in texts:
                log(f"- {tool}, {case}: {t.splitlines()[0] if t else t}")
        log(f"(each run's output: {LOG_DIR})")
        sys.exit(1)


def rounds(n):
    return f"{n} round" + ("" if n == 1 else "s")


def report(cases_small, cases_large, small, versions):
    has_cirrus = "cirrus" in TOOLS
    head = ["case", "tool", "median time", "rate", "peak RSS", "CPU (user+sys)"]
    if has_cirrus:
        head.append("cirrus speed-up (peer / cirrus)")
    print("\n| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for case in cases_small + cases_large:
        med = {}
        for tool in TOOLS:
            runs = results.get((case, tool), [])
            if runs:
                med[tool] = statistics.median(w for w, _, _ in runs)
        for tool in TOOLS:
            runs = results.get((case, tool), [])
            nfail = len(failures.get((case, tool), []))
            if not runs and (case, tool) in unsupported:
                row = [case, NAMES[tool], NOT_OFFERED.get(tool, "n/a"), "", "", ""]
            elif not runs:
                row = [case, NAMES[tool], "failed", "", "", ""]
            else:
                t = med[tool]
                rss = statistics.median(m for _, m, _ in runs)
                cpu = statistics.median(c for _, _, c in runs)
                rate = f"{FILES / t:,.0f} files/s" if case in cases_small else f"{LARGE_MIB / t:,.0f} MiB/s"
                note = f" ({len(runs)} of {len(runs) + nfail} ok)" if nfail else ""
                row = [case, NAMES[tool], f"{t:.2f} s{note}", rate, f"{rss:.0f} MiB", f"{cpu:.2f} s"]
            if has_cirrus:
                if tool == "cirrus" or tool not in med or "cirrus" not in med:
                    row.append("-" if tool == "cirrus" else "n/a")
                else:
                    row.append(f"{med[tool] / med['cirrus']:.2f}x")
            print("| " + " | ".join(row) + " |")
    if "floor" in TOOLS and has_cirrus:
        print()
        for case in cases_small:
            f = [w for w, _, _ in results.get((case, "floor"), [])]
            c = [w for w, _, _ in results.get((case, "cirrus"), [])]
            if f and c:
                print(f"- {case}: cirrus takes {statistics.median(c) / statistics.median(f):.2f}x the floor "
                      f"({statistics.median(c):.2f} s against {statistics.median(f):.2f} s).")
    parts = []
    if cases_small:
        parts.append(f"{rounds(ROUNDS)} ({small}: through a relay adding {DELAY_MS} ms each way, "
                     f"so a {2 * float(DELAY_MS):g} ms round trip)")
    if cases_large:
        parts.append(f"{rounds(ROUNDS_LARGE)} ({LARGE_NAME}: loopback, no relay)")
    print(f"\nMedians of {' and '.join(parts)}, against s3s-fs with its data on /dev/shm"
          + "; each run is one process under /usr/bin/time -v (peak RSS: its maximum resident set; "
          "CPU: user + system seconds; time: wall clock around it). Every upload, download and copy was checked byte for byte. "
          + ("A speed-up above 1 means cirrus was faster." if has_cirrus else ""))
    print("Versions: " + "; ".join(f"{NAMES[t]}: {versions[t]}" for t in TOOLS) + ".")
    print(f"Load average (1 min) at the start and the end: {LOAD_START:.2f}, {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs (the tools, s3s-fs and the relay share them).")


if __name__ == "__main__":
    main()
