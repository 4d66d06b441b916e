#!/usr/bin/env python3
"""Runs ringkv's GoogleTest executables and prints one closing line,
"N passed, N failed, N skipped", counting test cases (not executables).
A skipped case (GTEST_SKIP: a fault the machine cannot inject, such as an
iptables partition without root) is never counted as passed; each one is
listed with its reason.

The test list comes from `meson introspect --tests`, so adding a test to a
meson.build is enough. Executables run two at a time (the CI machine has two
cores); each gets a JSON report from which its cases are counted. An
executable that crashes or times out before writing its report counts as one
failed case, so a crash can never pass silently. A test that is a plain
script (the layer check, the manifest check) is one case: passed when it
exits 0.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time


def run_one(t, outdir, verbose):
    name = t["name"]
    report = os.path.join(outdir, name.replace("/", "_") + ".json")
    env = dict(os.environ)
    env.update(t.get("env") or {})
    env["GTEST_OUTPUT"] = "json:" + report
    timeout = t.get("timeout") or 300
    start = time.monotonic()
    try:
        p = subprocess.run(t["cmd"], cwd=t.get("workdir") or None, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        out, rc = p.stdout.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") + f"\nTIMEOUT after {timeout}s\n"
        rc = -1
    elapsed = time.monotonic() - start
    passed = failed = 0
    failures = []
    skipped = []
    if os.path.exists(report):
        with open(report) as f:
            data = json.load(f)
        for suite in data.get("testsuites", []):
            for case in suite.get("testsuite", []):
                if case.get("status") != "RUN":
                    continue
                if case.get("result") == "SKIPPED":
                    skipped.append(f'{suite["name"]}.{case["name"]}')
                    continue
                if case.get("failures"):
                    failed += 1
                    failures.append(f'{suite["name"]}.{case["name"]}')
                else:
                    passed += 1
    if not os.path.exists(report) and rc == 0:
        passed += 1  # a check that is not a GoogleTest binary: one case
    if rc != 0 and failed == 0:
        failed += 1
        failures.append(f"{name} (exit code {rc})")
    return name, passed, failed, failures, skipped, out, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--suite", action="append",
                    help="suites to run (default: unit, integration, sim)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    suites = set(args.suite or ["unit", "integration", "sim"])
    tests = json.loads(subprocess.check_output(
        ["meson", "introspect", "--tests", args.build]))
    tests = [t for t in tests if suites & {s.split(":")[-1] for s in t.get("suite", [])}]
    total_p = total_f = 0
    all_skipped = []
    with tempfile.TemporaryDirectory(prefix="ringkv-tests-") as outdir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, t, outdir, args.verbose) for t in tests]
        for fut in concurrent.futures.as_completed(futures):
            name, p, f, failures, skipped, out, elapsed = fut.result()
            total_p += p
            total_f += f
            all_skipped += skipped
            mark = "ok  " if f == 0 else "FAIL"
            print(f"{mark} {name}: {p} passed, {f} failed ({elapsed:.1f}s)", flush=True)
            if f or args.verbose:
                sys.stdout.write(out[-20000:])
                for fl in failures:
                    print(f"     failed: {fl}")
    for sk in sorted(all_skipped):
        print(f"skipped: {sk}")
    print(f"{total_p} passed, {total_f} failed, {len(all_skipped)} skipped")
    return 0 if total_f == 0 and total_p > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
