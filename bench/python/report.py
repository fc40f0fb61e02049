"""Drives bench/python (see run.sh) and prints medians and ratios as Markdown.

Everything comes from the environment that run.sh sets up:
  S3_URL, RELAY_URL    s3s-fs directly, and behind relay.py (20 ms round trips)
  LIST_URL, LIST_RELAY_URL, LIST_KEY_ID, LIST_SECRET, LIST_REGION
                       the server of the listing case (Garage, or s3s-fs again), directly and
                       behind its own relay
  S3_DATA              s3s-fs's data directory (a bucket is a directory, an object a file): uploads
                       are checked there, and each run's bucket is removed from it afterwards
  WORK, LOG_DIR        scratch (sources, downloads) and each run's output (kept)
  BENCH_PY             the bench venv's python (boto3, aioboto3, obstore, aioaws, cirrus_aws)
  CIRRUS_BIN           the release `cirrus` CLI
  ROUNDS, FILES, FILE_KIB, LARGE_MIB, LIST_KEYS, STARTS, CASES, LARGE_VIA, BENCH_CONC,
  SMALL_TOOLS, LARGE_TOOLS, LIST_TOOLS, RUN_TIMEOUT
  CIRRUS_S3S_ACCESS_KEY, CIRRUS_S3S_SECRET_KEY
Standard library only: the bench venv's packages are used by cases.py, one process a run.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

E = os.environ
S3_URL, RELAY_URL, S3_DATA, WORK = E["S3_URL"], E["RELAY_URL"], E["S3_DATA"], E["WORK"]
LOG_DIR = E["LOG_DIR"]
PY, CIRRUS = E["BENCH_PY"], E["CIRRUS_BIN"]
CASES_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.py")
ROUNDS = int(E.get("ROUNDS", "3"))
FILES, FILE_KIB = int(E.get("FILES", "1000")), int(E.get("FILE_KIB", "16"))
LARGE_MIB = int(E.get("LARGE_MIB", "1024"))
LIST_KEYS = int(E.get("LIST_KEYS", "10000"))
STARTS = int(E.get("STARTS", "10"))
CASES = E.get("CASES", "small large list start").split()
LARGE_VIA = E.get("LARGE_VIA", "relay").split()
CONC = E.get("BENCH_CONC", "128")
SMALL_TOOLS = E.get("SMALL_TOOLS", "cli cirrus-cp cirrus-async boto3-10 boto3-64 aioboto3 obstore-async aioaws").split()
LARGE_TOOLS = E.get("LARGE_TOOLS", "cli cirrus cirrus-cp boto3 obstore").split()
LIST_TOOLS = E.get("LIST_TOOLS", "cli cirrus cirrus-async boto3 obstore").split()
TIMEOUT = int(E.get("RUN_TIMEOUT", "600"))
NAMES = {
    "cli": "cirrus CLI", "cirrus-cp": "cirrus_aws S3Client.cp", "cirrus-async": "cirrus_aws AsyncS3Client",
    "cirrus": "cirrus_aws S3Client", "boto3-10": "boto3, 10 threads", "boto3-64": "boto3, 64 threads",
    "boto3": "boto3", "aioboto3": "aioboto3", "obstore-async": "obstore (async)", "obstore": "obstore",
    "aioaws": "aioaws",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def base_env():
    """The caller's environment without anything that could point a tool elsewhere."""
    env = {k: v for k, v in E.items()
           if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    empty = os.path.join(WORK, "empty-aws-config")
    open(empty, "a").close()
    env.update({
        "AWS_ACCESS_KEY_ID": E["CIRRUS_S3S_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY": E["CIRRUS_S3S_SECRET_KEY"],
        "BENCH_ACCESS_KEY": E["CIRRUS_S3S_ACCESS_KEY"], "BENCH_SECRET_KEY": E["CIRRUS_S3S_SECRET_KEY"],
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": empty,
        "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost", "BENCH_CONC": CONC,
    })  # AWS_CA_BUNDLE (set on these machines) is left out: plain http here
    return env


ENV = base_env()
# The listing's server: its own keys and region.
LIST_ENV = dict(ENV, AWS_ACCESS_KEY_ID=E["LIST_KEY_ID"], AWS_SECRET_ACCESS_KEY=E["LIST_SECRET"],
                BENCH_ACCESS_KEY=E["LIST_KEY_ID"], BENCH_SECRET_KEY=E["LIST_SECRET"], AWS_REGION=E["LIST_REGION"],
                AWS_DEFAULT_REGION=E["LIST_REGION"], BENCH_REGION=E["LIST_REGION"])
RUN_NO = 0


# -- one run ----------------------------------------------------------------------------------------

def cli_argv(op, url, bucket, prefix, local):
    pre = [CIRRUS, "--endpoint-url", url, "s3"]
    s3 = f"s3://{bucket}/{prefix}"
    return {
        "up": pre + ["cp", "--recursive", "--only-show-errors", local, s3 + "/"],
        "down": pre + ["cp", "--recursive", "--only-show-errors", s3 + "/", local],
        "put": pre + ["cp", "--only-show-errors", local, s3],
        "get": pre + ["cp", "--only-show-errors", s3, local],
        "list": pre + ["ls", "--recursive", s3 + "/"],
    }[op]


def run(tool, op, url, bucket, prefix, local, n=0, env=None):
    """One run under /usr/bin/time -v: a dict (seconds, wall, rss MiB, cpu s, count) or an error
    text. `seconds` is the operation alone as the process timed it (the CLI: its wall time)."""
    global RUN_NO
    RUN_NO += 1
    if tool == "cli":
        argv = cli_argv(op, url, bucket, prefix, local)
    else:
        argv = [PY, CASES_PY, tool, op, url, bucket, prefix, local, str(n)]
    base = os.path.join(LOG_DIR, f"{RUN_NO:03d}-{tool}-{op}")
    with open(base + ".out", "wb") as out, open(base + ".err", "wb") as err:
        t0 = time.perf_counter()
        try:
            rc = subprocess.run(["/usr/bin/time", "-v", "-o", base + ".time", *argv], env=env or ENV, stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL, timeout=TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        wall = time.perf_counter() - t0
    if rc != 0:
        tail = open(base + ".err", "rb").read()[-1200:].decode(errors="replace")
        return f"exit {rc} after {wall:.1f} s: {' '.join(argv)}\n{tail}"
    t = open(base + ".time").read()
    res = {
        "wall": wall,
        "rss": int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024,
        "cpu": sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", t)),
    }
    out = open(base + ".out").read()
    if tool == "cli":
        res["seconds"] = wall
        res["count"] = out.count("\n") if op == "list" else None
    else:
        answer = json.loads(out.strip().splitlines()[-1])
        res["seconds"], res["count"] = answer["seconds"], answer["count"]
    return res


# -- checks and buckets -----------------------------------------------------------------------------

def same_file(a, b):
    """None when the two files hold the same bytes, else what differs."""
    if not os.path.exists(b):
        return f"{b} is missing"
    if os.path.getsize(a) != os.path.getsize(b):
        return f"{b}: {os.path.getsize(b)} bytes, not {os.path.getsize(a)}"
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(8 << 20), fb.read(8 << 20)
            if x != y:
                return f"{b} differs from {a}"
            if not x:
                return None


def same_tree(src, dst, names):
    extra = set(os.listdir(dst)) - set(names) if os.path.isdir(dst) else set()
    if extra:
        return f"{dst} has more than the source: {sorted(extra)[:3]}"
    for k in names:
        problem = same_file(os.path.join(src, k), os.path.join(dst, k))
        if problem:
            return problem
    return None


def cli(*args, url=None, env=None):
    p = subprocess.run([CIRRUS, "--endpoint-url", url or S3_URL, "s3", *args], env=env or ENV, capture_output=True,
                       text=True)
    if p.returncode != 0:
        sys.exit(f"cirrus s3 {' '.join(args)} failed:\n{p.stdout}{p.stderr}")


def make_bucket(bucket):
    drop_bucket(bucket)
    cli("mb", f"s3://{bucket}")


def drop_bucket(bucket):
    """Removes a bucket and its objects behind s3s-fs's back (it keeps no other state): it lists
    by walking the bucket's directory, so leftovers would slow later runs."""
    shutil.rmtree(os.path.join(S3_DATA, bucket), ignore_errors=True)
    for p in os.listdir(S3_DATA):
        if p.startswith(".bucket-"):
            os.remove(os.path.join(S3_DATA, p))


# -- results ----------------------------------------------------------------------------------------

results = {}  # (case, tool) -> [run dicts]
failures = {}  # (case, tool) -> [text]


def record(case, tool, res, check=None):
    if isinstance(res, dict) and check is not None:
        problem = check()
        if problem:
            res = f"wrong result: {problem}"
    if isinstance(res, dict):
        results.setdefault((case, tool), []).append(res)
        log(f"   {tool:14} {case:34} {res['seconds']:7.3f} s  (process {res['wall']:.2f} s, "
            f"{res['rss']:.0f} MiB, cpu {res['cpu']:.2f} s)")
        return True
    failures.setdefault((case, tool), []).append(res)
    log(f"   {tool:14} {case:34} FAILED: {res.splitlines()[0][:300]}")
    return False


def med(case, tool, key="seconds"):
    runs = results.get((case, tool))
    return statistics.median(r[key] for r in runs) if runs else None


# -- the cases --------------------------------------------------------------------------------------

def make_files(d, n, size):
    os.makedirs(d, exist_ok=True)
    names = [f"{i:05d}.bin" for i in range(n)]
    for k in names:
        with open(os.path.join(d, k), "wb") as f:
            f.write(os.urandom(size))
    return names


def small_case():
    src = os.path.join(WORK, "small")
    names = make_files(src, FILES, FILE_KIB << 10)
    up, down = f"{FILES:,} x {FILE_KIB} KiB up", f"{FILES:,} x {FILE_KIB} KiB down"
    log(f"== {FILES} x {FILE_KIB} KiB through the relay ({RELAY_URL}), {ROUNDS} rounds")
    for r in range(ROUNDS):
        for tool in SMALL_TOOLS:
            bucket = f"small-{tool}-{r}"
            make_bucket(bucket)
            stored = os.path.join(S3_DATA, bucket, "up")
            ok = record(up, tool, run(tool, "up", RELAY_URL, bucket, "up", src, FILES),
                        lambda: same_tree(src, stored, names))
            if not ok:  # put the source in place (loopback, untimed) so the download is measured
                cli("cp", "--recursive", "--only-show-errors", src, f"s3://{bucket}/up/")
            dst = os.path.join(WORK, "down")
            shutil.rmtree(dst, ignore_errors=True)
            os.makedirs(dst)
            record(down, tool, run(tool, "down", RELAY_URL, bucket, "up", dst, FILES),
                   lambda: same_tree(src, dst, names))
            shutil.rmtree(dst, ignore_errors=True)
            drop_bucket(bucket)
    return [up, down]


def large_case():
    big = os.path.join(WORK, "big.bin")
    with open(big, "wb") as f:
        for _ in range(LARGE_MIB):
            f.write(os.urandom(1 << 20))
    name = f"{LARGE_MIB // 1024} GiB" if LARGE_MIB % 1024 == 0 else f"{LARGE_MIB} MiB"
    cases = []
    for via in LARGE_VIA:
        url = S3_URL if via == "loopback" else RELAY_URL
        up, down = f"{name} up ({via})", f"{name} down ({via})"
        cases += [up, down]
        log(f"== one {name} object over {via} ({url}), {ROUNDS} rounds")
        for r in range(ROUNDS):
            for tool in LARGE_TOOLS:
                bucket = f"large-{tool}-{r}"
                make_bucket(bucket)
                stored = os.path.join(S3_DATA, bucket, "big")
                ok = record(up, tool, run(tool, "put", url, bucket, "big", big), lambda: same_file(big, stored))
                if not ok:
                    cli("cp", "--only-show-errors", big, f"s3://{bucket}/big")
                dst = os.path.join(WORK, "big.down")
                record(down, tool, run(tool, "get", url, bucket, "big", dst), lambda: same_file(big, dst))
                for p in (dst, dst + ".d"):
                    shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
                drop_bucket(bucket)
    os.remove(big)
    return cases


def list_case():
    src = os.path.join(WORK, "listing")
    make_files(src, LIST_KEYS, 0)
    bucket = f"listing-{os.getpid()}"  # Garage keeps its buckets: a new one each run
    cli("mb", f"s3://{bucket}", url=E["LIST_URL"], env=LIST_ENV)
    log(f"== putting {LIST_KEYS} keys in place on {E['LIST_URL']} (untimed)")
    cli("cp", "--recursive", "--only-show-errors", src, f"s3://{bucket}/keys/", url=E["LIST_URL"], env=LIST_ENV)
    shutil.rmtree(src)
    case = f"list {LIST_KEYS:,} keys"
    log(f"== {case} through the relay ({E['LIST_RELAY_URL']}), {ROUNDS} rounds")

    def counted(res):
        return lambda: None if res["count"] == LIST_KEYS else f"{res['count']} keys, not {LIST_KEYS}"

    for _ in range(ROUNDS):
        for tool in LIST_TOOLS:
            res = run(tool, "list", E["LIST_RELAY_URL"], bucket, "keys", "-", env=LIST_ENV)
            record(case, tool, res, counted(res) if isinstance(res, dict) else None)
    return [case]


# The cold start: a new process imports the package, makes a client and sends one HEAD.
FIRST = {
    "cirrus_aws": ("import cirrus_aws as c\n"
                   "s3 = c.S3Client(c.Config(region='us-east-1', endpoint_url=URL, "
                   "credentials=c.Credentials(AK, SK)))\n"
                   "s3.head('first', 'one')"),
    "boto3": ("import boto3\nfrom botocore.config import Config\n"
              "s3 = boto3.client('s3', endpoint_url=URL, region_name='us-east-1', aws_access_key_id=AK, "
              "aws_secret_access_key=SK, config=Config(s3={'addressing_style': 'path'}))\n"
              "s3.head_object(Bucket='first', Key='one')"),
    "obstore": ("import obstore\nfrom obstore.store import S3Store\n"
                "s = S3Store('first', endpoint=URL, region='us-east-1', access_key_id=AK, secret_access_key=SK, "
                "virtual_hosted_style_request=False, client_options={'allow_http': True})\n"
                "obstore.head(s, 'one')"),
}


def timed_process(argv):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *argv], env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{p.stdout}{p.stderr[-1500:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, rss, p.stderr


def start_case():
    make_bucket("first")
    one = os.path.join(WORK, "one")
    open(one, "wb").write(b"x")
    cli("cp", "--only-show-errors", one, "s3://first/one")
    log(f"== import time and time to the first request (loopback), {STARTS} runs each")
    pre = f"URL={S3_URL!r}\nAK={E['CIRRUS_S3S_ACCESS_KEY']!r}\nSK={E['CIRRUS_S3S_SECRET_KEY']!r}\n"
    for _ in range(STARTS):
        results.setdefault(("start", "python"), []).append({"seconds": timed_process([PY, "-c", "pass"])[0],
                                                             "rss": 0})
        for mod, code in FIRST.items():
            _, _, err = timed_process([PY, "-X", "importtime", "-c", f"import {mod}"])
            cum = [int(m.group(1)) for m in re.finditer(rf"^import time:\s+\d+ \|\s+(\d+) \| {mod}$", err, re.M)]
            results.setdefault(("import", mod), []).append({"seconds": cum[-1] / 1e6, "rss": 0})
            wall, rss, _ = timed_process([PY, "-c", pre + code])
            results.setdefault(("first request", mod), []).append({"seconds": wall, "rss": rss})
    for mod in FIRST:
        log(f"   {mod:12} import {med('import', mod) * 1000:6.1f} ms, process to first HEAD "
            f"{med('first request', mod) * 1000:6.1f} ms, {med('first request', mod, 'rss'):.0f} MiB")
    drop_bucket("first")


# -- the report -------------------------------------------------------------------------------------

def fmt(s):
    return "-" if s is None else (f"{s:.2f} s" if s >= 0.1 else f"{s * 1000:.0f} ms")


def table(cases, tools, ref):
    """Medians per case and tool; ratio = tool / ref (above 1: slower than ref)."""
    lines = ["| tool | " + " | ".join(cases) + " |", "| --- |" + " --- |" * len(cases)]
    for tool in tools:
        cells = []
        for c in cases:
            m, base = med(c, tool), med(c, ref)
            if m is None:
                fails = failures.get((c, tool))
                cells.append("failed" if fails else "-")
                continue
            ratio = f", {m / base:.2f}x" if base and tool != ref else ""
            cells.append(f"{fmt(m)}{ratio} ({med(c, tool, 'rss'):.0f} MiB)")
        lines.append(f"| {NAMES.get(tool, tool)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def versions():
    code = ("import importlib.metadata as m, sys\n"
            "print('Python ' + sys.version.split()[0] + ', ' + ', '.join(p + ' ' + m.version(p) for p in "
            "['cirrus-aws', 'boto3', 'botocore', 's3transfer', 'aioboto3', 'aiobotocore', 'obstore', 'aioaws', 'httpx']))")
    py = subprocess.run([PY, "-c", code], capture_output=True, text=True).stdout.strip()
    cli_version = subprocess.run([CIRRUS, "--version"], capture_output=True, text=True).stdout.strip()
    return f"{py}; {cli_version}"


def report(small, large, listing, load_before):
    print(f"\nLoad average {load_before} at the start, {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"at the end (2 cores). Versions: {versions()}. Medians of {ROUNDS} "
          f"(cold start: {STARTS}); the seconds are the operation alone, timed inside each process "
          f"(the CLI: its whole process); in brackets the ratio to the first cirrus_aws row and the "
          f"process's peak RSS. Async cases: asyncio.gather, at most {CONC} at once.\n")
    if small:
        print(table(small, SMALL_TOOLS, "cirrus-cp") + "\n")
    if large:
        print(table(large, LARGE_TOOLS, "cirrus") + "\n")
    if listing:
        print(table(listing, LIST_TOOLS, "cirrus") + "\n")
    if "start" in CASES:
        base = med("start", "python")
        print(f"| cold start (python -c pass: {fmt(base)}) | import (-X importtime, cumulative) | "
              f"new process to the first HEAD answered | peak RSS |\n| --- | --- | --- | --- |")
        for mod in FIRST:
            print(f"| {mod} | {fmt(med('import', mod))} | {fmt(med('first request', mod))} | "
                  f"{med('first request', mod, 'rss'):.0f} MiB |")
        print()
    targets(small)
    for (case, tool), texts in failures.items():
        print(f"- {NAMES.get(tool, tool)}, {case}: {len(texts)} failed run(s); the first: "
              f"{texts[0].splitlines()[0][:400]}")
        for line in texts[0].splitlines()[1:][-6:]:
            print(f"    {line[:300]}")


def targets(small):
    if not small:
        return
    print("Targets of issue 28 (many small files):\n")
    for case in small:
        best = min(("cirrus-cp", "cirrus-async"), key=lambda t: med(case, t) or float("inf"))
        m = med(case, best)
        if m is None:
            continue
        parts = [f"{case}: cirrus_aws at its best ({NAMES[best]}) {fmt(m)}"]
        for tool, want in (("obstore-async", 1.0), ("boto3-10", 10.0), ("boto3-64", 10.0)):
            o = med(case, tool)
            if o is not None:
                verdict = "met" if o / m >= want else "missed"
                parts.append(f"{NAMES[tool]} {fmt(o)} = {o / m:.2f}x (target >= {want:g}x: {verdict})")
        c = med(case, "cli")
        if c is not None:
            cp = med(case, "cirrus-cp")
            parts.append(f"CLI {fmt(c)}: S3Client.cp at {cp / c:.2f}x of it "
                         f"(target <= 1.10x: {'met' if cp / c <= 1.10 else 'missed'})")
        print("- " + "; ".join(parts))
    print()


def main():
    os.makedirs(LOG_DIR, exist_ok=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    small = small_case() if "small" in CASES else []
    listing = list_case() if "list" in CASES else []
    if "start" in CASES:
        start_case()
    large = large_case() if "large" in CASES else []
    report(small, large, listing, load)


if __name__ == "__main__":
    main()
