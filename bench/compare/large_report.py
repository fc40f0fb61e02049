"""Drives the large-object comparison (see large.sh) and prints the sweep, medians and ratios as
Markdown.

Everything comes from the environment that large.sh sets up (and transfer_report.py reads):
  S3_URL, RELAY_URL     s3s-fs directly, and behind relay.py (the WAN cases)
  S3_DATA               s3s-fs's data directory: uploads are checked there, and each bucket is
                        removed from it afterwards
  S3S_PID, RELAY_PID    whose CPU time is read from /proc around every run
  WORK, LOG_DIR         scratch (the source file, downloads) and each run's output
  TOOLS                 e.g. "ceiling cirrus aws"; CEILING_BIN, CIRRUS_BIN, AWS_BIN
  ROUNDS, LARGE_MIB, DELAY_MS, RATE_MBPS, SKIP_WAN, SKIP_LOOPBACK, SKIP_SWEEP, CEILING_LOOP,
  CEILING_WAN, SWEEP_CONNS, SWEEP_PARTS, SWEEP_CONNS_WAN, PAYLOAD
Standard library only.
"""
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transfer_report as tr  # noqa: E402  (the environment, commands, runs and checks)

E = os.environ
TOOLS = E.get("TOOLS", "ceiling cirrus aws").split()
ROUNDS = int(E.get("ROUNDS", "3"))
LARGE_MIB = int(E.get("LARGE_MIB", "1024"))
CEILING = E["CEILING_BIN"]
PAYLOAD = E.get("PAYLOAD", "signed")
S3S_PID, RELAY_PID = E["S3S_PID"], E["RELAY_PID"]
FLAG = lambda name: E.get(name, "0") not in ("", "0")  # noqa: E731
LINKS = [x for x, skip in (("loopback", FLAG("SKIP_LOOPBACK")), ("WAN", FLAG("SKIP_WAN"))) if not skip]
SWEEP_CONNS = [int(x) for x in E.get("SWEEP_CONNS", "1 2 4 8 16").split()]
SWEEP_PARTS = [int(x) for x in E.get("SWEEP_PARTS", "8 16").split()]
SWEEP_CONNS_WAN = [int(x) for x in E.get("SWEEP_CONNS_WAN", "1 2 4 8 16 32 64").split()]
NAMES = {"ceiling": "minimal client (ceiling)", "cirrus": "cirrus", "aws": "AWS CLI v2"}
SIZE = f"{LARGE_MIB // 1024} GiB" if LARGE_MIB % 1024 == 0 else f"{LARGE_MIB} MiB"
TICK = os.sysconf("SC_CLK_TCK")
log = tr.log


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


def url_of(link):
    return tr.S3_URL if link == "loopback" else tr.RELAY_URL


RUN_NO = 0


def ceiling(op, url, bucket, point, src=None, verify=False):
    """Runs the minimal client: (seconds by its own clock, its output line) or an error text."""
    global RUN_NO
    RUN_NO += 1
    conns, part = point
    argv = [CEILING, op, "--endpoint", url, "--bucket", bucket, "--key", "large", "--conns", str(conns),
            "--part-mib", str(part), "--payload", PAYLOAD]
    if src:
        argv += ["--file", src]
    if verify:
        argv.append("--verify")
    lfile = os.path.join(tr.LOG_DIR, f"{RUN_NO:03d}-ceiling-{op}.log")
    try:
        p = subprocess.run(argv, env=tr.ENV, capture_output=True, text=True, timeout=tr.TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"timeout: {' '.join(argv)}"
    with open(lfile, "w") as f:
        f.write(p.stdout + p.stderr)
    m = re.search(r"secs=([0-9.]+)", p.stdout)
    if p.returncode != 0 or not m:
        return f"exit {p.returncode}: {' '.join(argv)}\n{p.stderr[-1500:]}"
    return float(m.group(1)), p.stdout.strip()


def measured(fn):
    """fn() with the server's and the relay's CPU seconds during it."""
    s0, r0 = cpu_seconds(S3S_PID), cpu_seconds(RELAY_PID)
    res = fn()
    return res, cpu_seconds(S3S_PID) - s0, cpu_seconds(RELAY_PID) - r0


# -- the sweep of the minimal client ---------------------------------------------------------------

sweep = {}  # (link, op, part, conns) -> (MiB/s, server CPU s, output line)


def sweep_points(link):
    if link == "loopback":
        return [(n, p) for p in SWEEP_PARTS for n in SWEEP_CONNS]
    return [(n, 8) for n in SWEEP_CONNS_WAN]


def run_sweep(src, src_sha):
    for link in LINKS:
        for point in sweep_points(link):
            bucket = f"sweep-{link.lower()}-{point[0]}-{point[1]}"
            tr.make_bucket(bucket)
            for op in ("up", "down"):
                res, scpu, _ = measured(lambda: ceiling(op, url_of(link), bucket, point, src if op == "up" else None))
                if isinstance(res, str):
                    log(f"   sweep {link} {op} {point}: FAILED: {res}")
                    break
                if op == "up":
                    got = tr.file_sha256(os.path.join(tr.S3_DATA, bucket, "large"))
                    if got != src_sha:
                        sys.exit(f"sweep {link} up {point}: the stored object's SHA-256 is {got}, not {src_sha}")
                sweep[(link, op, point[1], point[0])] = (LARGE_MIB / res[0], scpu, res[1])
                log(f"   sweep {link:8} {op:4} {point[0]:3} x {point[1]:2} MiB: {LARGE_MIB / res[0]:7.1f} MiB/s"
                    f"  server CPU {scpu:5.2f} s   {res[1]}")
            tr.drop_bucket(bucket)


def best_point(link, op):
    pts = [(v[0], (n, p)) for (lk, o, p, n), v in sweep.items() if lk == link and o == op]
    if pts:
        return max(pts)[1]
    n, p = E.get("CEILING_LOOP" if link == "loopback" else "CEILING_WAN", "8:8" if link == "loopback" else "64:8").split(":")
    return int(n), int(p)


# -- the rounds ------------------------------------------------------------------------------------

results = {}  # (case, tool) -> [(seconds, server CPU, relay CPU, tool CPU, peak RSS)]
failures = {}


def record(case, tool, res, problem=None):
    if problem:
        res = f"wrong result: {problem}"
    if isinstance(res, tuple):
        results.setdefault((case, tool), []).append(res)
        log(f"   {tool:7} {case:24} {res[0]:7.2f} s {LARGE_MIB / res[0]:7.1f} MiB/s  server CPU {res[1]:5.2f} s"
            f"  relay CPU {res[2]:5.2f} s" + (f"  own CPU {res[3]:5.2f} s  peak RSS {res[4]:5.1f} MiB" if res[3] is not None else ""))
        return True
    failures.setdefault((case, tool), []).append(res)
    results.setdefault((case, tool), [])
    log(f"   {tool:7} {case:24} FAILED: {res}")
    return False


def one(tool, op, link, bucket, local, point):
    """One timed run: (seconds, server CPU, relay CPU, own CPU or None, peak RSS or None) or an error."""
    if tool == "ceiling":
        res, scpu, rcpu = measured(lambda: ceiling(op, url_of(link), bucket, point, local if op == "up" else None))
        return res if isinstance(res, str) else (res[0], scpu, rcpu, None, None)
    res, scpu, rcpu = measured(lambda: tr.run(tool, {"up": "put", "down": "get"}[op], url_of(link), bucket, local))
    return res if isinstance(res, str) else (res[0], scpu, rcpu, res[2], res[1])


def run_rounds(src, src_sha):
    def wrong(path):
        got = tr.file_sha256(path) if os.path.isfile(path) else "missing"
        return None if got == src_sha else f"{path}: sha256 {got[:16]}.. (want {src_sha[:16]}..)"

    for r in range(ROUNDS):
        k = r % len(TOOLS)
        for link in LINKS:
            for tool in TOOLS[k:] + TOOLS[:k]:
                log(f"== round {r + 1}/{ROUNDS}: {tool}, {SIZE} on {link}")
                bucket = f"{tool}-{link.lower()}-r{r + 1}"
                tr.make_bucket(bucket)
                obj = os.path.join(tr.S3_DATA, bucket, "large")
                res = one(tool, "up", link, bucket, src, best_point(link, "up"))
                ok = record(f"upload ({link})", tool, res, isinstance(res, tuple) and wrong(obj))
                if not ok:
                    ok = tr.seed(bucket, "large", src)
                if ok:
                    dst = os.path.join(tr.WORK, f"large-{tool}")
                    point = best_point(link, "down")
                    res = one(tool, "down", link, bucket, dst, point)
                    problem = None
                    if isinstance(res, tuple):
                        if tool == "ceiling":  # its timed run drops the bytes: once more, kept and hashed
                            v = ceiling("down", url_of(link), bucket, point, verify=True)
                            m = re.search(r"sha256=([0-9a-f]+)", v[1]) if isinstance(v, tuple) else None
                            problem = None if m and m.group(1) == src_sha else f"the verifying download gave {v}"
                        else:
                            problem = wrong(dst)
                    record(f"download ({link})", tool, res, problem)
                    if os.path.exists(dst):
                        os.remove(dst)
                tr.drop_bucket(bucket)


# -- the report ------------------------------------------------------------------------------------

def med(case, tool, i):
    runs = results.get((case, tool), [])
    vals = [x[i] for x in runs if x[i] is not None]
    return statistics.median(vals) if vals else None


def report(versions, load_start):
    if sweep:
        print(f"\nThe minimal client, one run per point, {SIZE}, MiB/s (s3s-fs CPU seconds), payload {PAYLOAD}:\n")
        for link in LINKS:
            conns = SWEEP_CONNS if link == "loopback" else SWEEP_CONNS_WAN
            parts = SWEEP_PARTS if link == "loopback" else [8]
            print("| link | direction | part | " + " | ".join(f"N = {n}" for n in conns) + " |")
            print("|" + " --- |" * (3 + len(conns)))
            for op in ("up", "down"):
                for p in parts:
                    cells = []
                    for n in conns:
                        v = sweep.get((link, op, p, n))
                        cells.append(f"{v[0]:.0f} ({v[1]:.1f})" if v else "failed")
                    print(f"| {link} | {op} | {p} MiB | " + " | ".join(cells) + " |")
            print()
    head = ["case", "ceiling (N x part)", "cirrus", "AWS CLI v2", "cirrus / ceiling", "cirrus / AWS CLI (speed)",
            "s3s-fs CPU s (ceiling / cirrus / AWS CLI)", "relay CPU s", "cirrus CPU s, peak RSS", "AWS CLI CPU s, peak RSS"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for link in LINKS:
        for op, case in (("up", f"upload ({link})"), ("down", f"download ({link})")):
            t = {tool: med(case, tool, 0) for tool in TOOLS}

            def rate(tool):
                if tool not in TOOLS:
                    return "-"
                if t[tool] is None:
                    return "failed" if failures.get((case, tool)) else "-"
                n = len(results.get((case, tool), []))
                nf = len(failures.get((case, tool), []))
                return f"{t[tool]:.2f} s, {LARGE_MIB / t[tool]:.0f} MiB/s" + (f" ({n} of {n + nf} ok)" if nf else "")

            pt = best_point(link, op)
            ceil_cell = rate("ceiling") + (f" ({pt[0]} x {pt[1]} MiB)" if "ceiling" in TOOLS else "")
            pct = f"{100 * t['ceiling'] / t['cirrus']:.0f}%" if t.get("ceiling") and t.get("cirrus") else "n/a"
            ratio = f"{t['aws'] / t['cirrus']:.2f}x" if t.get("aws") and t.get("cirrus") else "n/a"
            scpu = " / ".join(f"{med(case, x, 1):.1f}" if med(case, x, 1) is not None else "-" for x in ("ceiling", "cirrus", "aws"))
            rcpu = " / ".join(f"{med(case, x, 2):.1f}" if med(case, x, 2) is not None else "-" for x in ("ceiling", "cirrus", "aws")) if link == "WAN" else "-"

            def own(tool):
                c, m = med(case, tool, 3), med(case, tool, 4)
                return f"{c:.2f} s, {m:.0f} MiB" if c is not None else "-"

            print(f"| {case} | {ceil_cell} | {rate('cirrus')} | {rate('aws')} | {pct} | {ratio} | {scpu} | {rcpu} | {own('cirrus')} | {own('aws')} |")
    print(f"\nMedians of {ROUNDS} rounds, {SIZE}, s3s-fs 0.14.1 with its data on /dev/shm; WAN: relay.py, "
          f"{tr.DELAY_MS} ms each way, {E.get('RATE_MBPS')} MB/s per connection and direction. cirrus and the AWS "
          "CLI: one process at its defaults under /usr/bin/time -v (wall clock, start-up included); the minimal "
          "client: its own clock from its first connection to the last answer (its data already in memory). "
          "Every result checked by SHA-256. cirrus / ceiling: the ceiling's time over cirrus's (100% = as fast).")
    print("Versions: " + "; ".join(f"{NAMES[t]}: {versions[t]}" for t in TOOLS if t in versions) + ".")
    print(f"Load average (1 min) at the start and the end: {load_start:.2f}, {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs (the clients, s3s-fs and the relay share them).")


def main():
    load_start = os.getloadavg()[0]
    os.makedirs(tr.LOG_DIR, exist_ok=True)
    versions = {t: tr.version(t) for t in TOOLS if t != "ceiling"}
    for t, v in versions.items():
        log(f"== {t}: {v}")
    src = os.path.join(tr.WORK, "large")
    log(f"== making a {SIZE} file")
    with open(src, "wb") as f:
        for _ in range(LARGE_MIB):
            f.write(os.urandom(1 << 20))
    src_sha = tr.file_sha256(src)
    t0 = time.perf_counter()
    if not FLAG("SKIP_SWEEP") and "ceiling" in TOOLS:
        log("== the minimal client's sweep")
        run_sweep(src, src_sha)
    run_rounds(src, src_sha)
    report(versions, load_start)
    log(f"== {time.perf_counter() - t0:.0f} s")
    if failures:
        log("\nFailures:")
        for (case, tool), texts in failures.items():
            for x in texts:
                log(f"- {tool}, {case}: {x.splitlines()[0] if x else x}")
        log(f"(each run's output: {tr.LOG_DIR})")
        sys.exit(1)


if __name__ == "__main__":
    main()
