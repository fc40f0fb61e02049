"""Reads what measure.sh built and runs the two programs; prints a Markdown table."""
import os
import re
import socket
import statistics
import subprocess
import sys
import time

work, s3s_url = sys.argv[1], sys.argv[2]
# The programs run with a HOME that holds no ~/.aws: everything comes from the environment.
RUN_ENV = dict(os.environ, HOME=os.environ["CIRRUS_BENCH_HOME"])
PROGRAMS = ["cirrus-ls", "sdk-ls"]
TARGET = subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout.split("host: ")[1].split()[0]


def tree(p, *args):
    out = subprocess.run(
        ["cargo", "tree", "--manifest-path", f"bench/footprint/{p}/Cargo.toml", "--target", TARGET,
         "-e", "normal,build", "--prefix", "none", *args],
        capture_output=True, text=True, check=False).stdout
    return sorted({line.split()[0] for line in out.splitlines() if line.strip()} - {p})


def first_connect_ms(binary, runs=30):
    """From just before spawning the process to the loopback server accepting its connection."""
    samples = []
    for _ in range(runs):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        env = dict(RUN_ENV, AWS_ENDPOINT_URL=f"http://127.0.0.1:{srv.getsockname()[1]}")
        start = time.perf_counter()
        proc = subprocess.Popen([binary, "listing"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn, _ = srv.accept()
        samples.append((time.perf_counter() - start) * 1000)
        proc.kill()
        proc.wait()
        conn.close()
        srv.close()
    return statistics.median(samples)


def peak_rss_mib(binary, runs=5):
    samples = []
    for _ in range(runs):
        p = subprocess.run(["/usr/bin/time", "-v", binary, "listing"], capture_output=True, text=True,
                           env=dict(RUN_ENV, AWS_ENDPOINT_URL=s3s_url))
        if p.returncode != 0 or len(p.stdout.splitlines()) != 100:
            sys.exit(f"{binary} did not list the 100 keys:\n{p.stdout[-500:]}{p.stderr[-2000:]}")
        samples.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024)
    return statistics.median(samples)


rows = {}
for p in PROGRAMS:
    wall, user, sys_ = map(float, open(os.path.join(work, f"{p}.time")).read().split()[-3:])
    binary = os.path.join(work, p)
    c_builds = tree(p, "-i", "cc", "--depth", "1") + tree(p, "-i", "cmake", "--depth", "1")
    c_builds = sorted(set(c_builds) - {"cc", "cmake"})
    rows[p] = {
        "clean release build, wall": f"{wall:.0f} s",
        "clean release build, CPU (user + sys)": f"{user + sys_:.0f} s",
        "unique crates (normal + build, this target)": str(len(tree(p))),
        "crates with a C build (use cc or cmake)": ", ".join(c_builds) or "none",
        "stripped binary": f"{os.path.getsize(binary) / 1e6:.2f} MB",
        "process start to first connect (median of 30)": f"{first_connect_ms(binary):.2f} ms",
        "peak RSS listing 100 keys (median of 5)": f"{peak_rss_mib(binary):.1f} MiB",
    }

print("\n| | cirrus (`s3` only) | aws-config + aws-sdk-s3 |")
print("| --- | --- | --- |")
for k in rows[PROGRAMS[0]]:
    print(f"| {k} | {rows['cirrus-ls'][k]} | {rows['sdk-ls'][k]} |")
