"""Drives bench/compare's s3 program (see s3.sh) and prints medians and ratios as Markdown."""
import filecmp
import os
import re
import statistics
import subprocess
import sys

prog, work, rounds_small, rounds_large = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CLIENTS = ["cirrus", "sdk"]


def run(client, *args):
    """One operation in its own process: (seconds inside the program, peak RSS in MiB)."""
    p = subprocess.run(["/usr/bin/time", "-v", prog, client, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{client} {' '.join(args)} failed:\n{p.stdout}{p.stderr}")
    secs = float(re.search(r"elapsed_s=([0-9.]+)", p.stdout).group(1))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return secs, rss_kb / 1024


results = {}  # (case, client) -> [(secs, rss)]
for c in CLIENTS:
    run(c, "mb", f"bench-{c}")
run("cirrus", "mb", "bench-list")
print("== filling bench-list with 10,000 keys", file=sys.stderr)
run("cirrus", "fill", "bench-list", "10000")

for name, rounds in (("64MiB", rounds_small), ("1GiB", rounds_large)):
    src = os.path.join(work, name)
    for r in range(rounds):
        # Alternate who goes first, so neither always meets a warmer server.
        order = CLIENTS if r % 2 == 0 else CLIENTS[::-1]
        for c in order:
            print(f"== {name} round {r + 1}: {c}", file=sys.stderr)
            results.setdefault((f"upload {name}", c), []).append(run(c, "put", f"bench-{c}", name, src))
            dst = os.path.join(work, f"down-{c}")
            results.setdefault((f"download {name}", c), []).append(run(c, "get", f"bench-{c}", name, dst))
            if not filecmp.cmp(src, dst, shallow=False):
                sys.exit(f"{c}: the {name} download differs from the upload")
            os.remove(dst)

for r in range(rounds_small):
    for c in CLIENTS if r % 2 == 0 else CLIENTS[::-1]:
        results.setdefault(("list 10,000 keys", c), []).append(run(c, "list", "bench-list"))

sizes = {"64MiB": 64, "1GiB": 1024}
print("\n| case | cirrus | aws-sdk-s3 | time ratio (sdk / cirrus) | peak RSS cirrus | peak RSS aws-sdk-s3 |")
print("| --- | --- | --- | --- | --- | --- |")
for case in dict.fromkeys(k[0] for k in results):
    t = {c: statistics.median(s for s, _ in results[(case, c)]) for c in CLIENTS}
    m = {c: statistics.median(r for _, r in results[(case, c)]) for c in CLIENTS}
    size = next((v for k, v in sizes.items() if case.endswith(k)), None)
    fmt = (lambda c: f"{t[c] * 1000:.0f} ms") if size is None else (lambda c: f"{size / t[c]:.0f} MiB/s ({t[c]:.2f} s)")
    print(f"| {case} | {fmt('cirrus')} | {fmt('sdk')} | {t['sdk'] / t['cirrus']:.2f}x | {m['cirrus']:.1f} MiB | {m['sdk']:.1f} MiB |")
print(f"\nMedians of {rounds_small} rounds (64 MiB, listing) and {rounds_large} (1 GiB); each run is its own process.")
