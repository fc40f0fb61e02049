#!/usr/bin/env python3
"""Process start to first connect, side by side: each program is started with AWS_ENDPOINT_URL
pointing at a loopback socket that only accepts, and timed from just before the spawn to the
accept. The programs take turns, run by run, so that the machine's noise falls on all of them.

    bench/footprint/cold_start.py [--runs 30] NAME=COMMAND... [NAME=COMMAND...]

e.g. `cirrus-cli="target/release/cirrus s3 ls s3://listing"` and
`sdk-ls="/tmp/sdk-ls/release/sdk-ls listing"`. Every program runs with a HOME that holds no
~/.aws, and credentials and region from the environment (set here), as measure.sh runs them.
Prints the median and the minimum of each, and each median's ratio to the last program's.
"""
import argparse
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def once(argv, env):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    env = dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{srv.getsockname()[1]}")
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = srv.accept()
    took = (time.perf_counter() - start) * 1000
    proc.kill()
    proc.wait()
    conn.close()
    srv.close()
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("programs", nargs="+", help="NAME=COMMAND")
    args = ap.parse_args()
    programs = []
    for p in args.programs:
        name, _, command = p.partition("=")
        if not command:
            sys.exit(f"not NAME=COMMAND: {p!r}")
        programs.append((name, shlex.split(command)))
    home = tempfile.mkdtemp(prefix="cirrus-cold-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=home, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="cold-start-secret",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    samples = {name: [] for name, _ in programs}
    for _ in range(args.runs):
        for name, argv in programs:
            samples[name].append(once(argv, env))
    base = statistics.median(samples[programs[-1][0]])
    print(f"| program | start to first connect, median of {args.runs} | min | ratio to {programs[-1][0]} |")
    print("| --- | --- | --- | --- |")
    for name, _ in programs:
        med = statistics.median(samples[name])
        print(f"| {name} | {med:.2f} ms | {min(samples[name]):.2f} ms | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
