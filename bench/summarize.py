#!/usr/bin/env python3
"""Summarizes one bench/run.sh run: the ringkv / Redis table, the targets of
issue 5 as measured, and a chart of throughput and p99 against concurrency.

Reads the ringkv-bench JSON reports (tools/bench/report.h), the
redis-benchmark CSV lines and the node memory files that bench/run.sh wrote into
--runs; writes into --out: every raw report (ignored by git), summary.txt,
summary.json and sweep.png (kept). Prints summary.txt.
"""
import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path


def load(runs, name):
    path = runs / f"{name}.json"
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def fmt_ops(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt_us(v):
    return "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}x"


def total(report, field):
    if report is None:
        return None
    if field == "ops_per_sec":
        return report["ops_per_sec"]
    return report.get("total", {}).get(field)


def cpu_per_op(report, which):
    """Microseconds of CPU per measured operation: "server_cpu" (the
    processes of --server-pids) or "generator_cpu"."""
    if report is None or which not in report:
        return None
    return report[which].get("us_per_op")


def op(report, name, field):
    if report is None or name not in report:
        return None
    return report[name][field]


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) // (1024 * 1024)} GiB RAM"
                break
    except OSError:
        pass
    load = ""
    try:
        load = ", load average " + " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Linux {platform.release()}{load}"


def read_rss(runs, name):
    values = {}
    path = runs / f"{name}-rss.txt"
    if path.exists():
        for line in open(path):
            key, value = line.split()
            values[key] = int(value)
    return values


def memory_table(mem, summary):
    """Scenario 4: one node's memory and disk against the raw data it holds.
    The target (issue 5: under 2x the raw data) is judged on the peak
    resident set over the whole run, load and reads."""
    if "raw_bytes" not in mem:
        return []
    raw = mem["raw_bytes"]
    kib = {key: value * 1024 for key, value in mem.items() if key.endswith("_kib")}
    figures = [("resident, idle", kib.get("rss_idle_kib")),
               ("resident after load", kib.get("rss_loaded_kib")),
               ("  anonymous (heap)", kib.get("anon_loaded_kib")),
               ("  file-backed (code, libraries)", kib.get("file_loaded_kib")),
               ("resident after uniform reads", kib.get("rss_read_kib")),
               ("  anonymous (heap)", kib.get("anon_read_kib")),
               ("  file-backed (code, libraries)", kib.get("file_read_kib")),
               ("peak resident (VmHWM)", kib.get("hwm_read_kib")),
               ("data directory, after load", mem.get("disk_loaded_bytes")),
               ("data directory, at the end", mem.get("disk_read_bytes"))]
    peak_ratio = ratio(kib.get("hwm_read_kib"), raw)
    summary["memory"] = dict(mem, peak_over_raw=peak_ratio,
                             rss_read_over_raw=ratio(kib.get("rss_read_kib"), raw),
                             anon_read_over_raw=ratio(kib.get("anon_read_kib"), raw),
                             disk_over_raw=ratio(mem.get("disk_read_bytes"), raw))
    summary["targets"]["memory_peak_over_raw"] = peak_ratio
    lines = ["", f"4: memory, one node N=1 W=1, {mem['records']:,} keys of {mem['value_size']}-byte "
             f"values; raw data (keys + values) {raw / 2**20:.1f} MiB "
             f"({mem['key_bytes'] / mem['records']:.1f}-byte keys on average)"]
    header = f"{'figure':<30} {'MiB':>8} {'/ raw':>6}"
    lines += [header, "-" * len(header)]
    for what, size in figures:
        mib = "-" if size is None else f"{size / 2**20:.1f}"
        lines.append(f"{what:<30} {mib:>8} {fmt_ratio(ratio(size, raw)):>6}")
    lines.append(f"node with {mem['records']:,} keys: peak resident {fmt_ratio(peak_ratio)} raw data "
                 f"(target < 2x): {'met' if peak_ratio is not None and peak_ratio < 2 else 'missed'}; "
                 f"anonymous memory after reads {fmt_ratio(summary['memory']['anon_read_over_raw'])}")
    return lines


def long_run(report, summary):
    """The long three-node run: throughput per 10 s, to show it does not
    decay (compaction, cache churn, growing queues)."""
    if report is None or not report.get("per_second"):
        return []
    seconds = report["per_second"]
    tens = [sum(seconds[i:i + 10]) / len(seconds[i:i + 10]) for i in range(0, len(seconds), 10)
            if len(seconds[i:i + 10]) >= 5]
    if not tens:
        return []
    last_over_first = ratio(tens[-1], tens[0])
    summary["long_run"] = {"seconds": report["seconds"], "ops_per_sec": report["ops_per_sec"],
                           "ops_per_sec_per_10s": tens, "last_over_first": last_over_first,
                           "server_cpu_us_per_op": cpu_per_op(report, "server_cpu"),
                           "errors": report["errors"]}
    return ["", f"long run, three nodes N=3 R=W=2, workload A uniform, {report['seconds']:.0f} s: "
            f"{report['ops_per_sec']:,.0f} ops/s, CPU/op "
            f"{fmt_us(cpu_per_op(report, 'server_cpu'))} us, errors {report['errors']}",
            "ops/s per 10 s: " + ", ".join(f"{v:,.0f}" for v in tens) +
            f" (last / first {fmt_ratio(last_over_first)})"]


def redis_benchmark(runs, test, conc):
    path = runs / f"redis-benchmark-{test}-c{conc}.csv"
    if not path.exists() or path.stat().st_size == 0:
        return None
    row = next(csv.reader(open(path)))
    return {"rps": float(row[1]), "p50_ms": float(row[4]), "p99_ms": float(row[6])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--concurrency", required=True, type=int)
    parser.add_argument("--sweep", required=True)
    args = parser.parse_args()
    runs, out, conc = args.runs, args.out, args.concurrency
    sweep = [int(c) for c in args.sweep.split()]
    out.mkdir(parents=True, exist_ok=True)

    lines = []
    summary = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
               "concurrency": conc, "scenarios": [], "sweep": [], "targets": {}}
    lines.append(f"ringkv vs Redis, {summary['date']}, {summary['machine']}")
    lines.append(f"100-byte values, 100,000 keys, {conc} requests in flight unless stated; "
                 "Redis with appendonly yes, appendfsync everysec; ringkv LevelDB unsynced, "
                 "lww bucket")
    lines.append("")
    header = (f"{'scenario':<14} {'workload':<11} {'Redis ops/s':>12} {'ringkv ops/s':>13} "
              f"{'ratio':>6} {'Redis p99 us':>13} {'ringkv p99 us':>14} {'ratio':>6} {'errors':>7}")
    lines.append(header)
    lines.append("-" * len(header))
    for scenario, prefix in (("1: N=1 R=W=1", "ringkv1"), ("2: N=3 R=W=2", "ringkv3")):
        for wl in ("a", "c"):
            for dist in ("uniform", "zipfian"):
                redis = load(runs, f"redis-{wl}-{dist}-c{conc}")
                ours = load(runs, f"{prefix}-{wl}-{dist}-c{conc}")
                row = {
                    "scenario": scenario, "workload": wl.upper(), "distribution": dist,
                    "redis_ops_per_sec": total(redis, "ops_per_sec"),
                    "ringkv_ops_per_sec": total(ours, "ops_per_sec"),
                    "redis_p99_us": total(redis, "p99_us"),
                    "ringkv_p99_us": total(ours, "p99_us"),
                    "ringkv_errors": None if ours is None else ours["errors"],
                }
                row["ops_ratio"] = ratio(row["ringkv_ops_per_sec"], row["redis_ops_per_sec"])
                row["p99_ratio"] = ratio(row["ringkv_p99_us"], row["redis_p99_us"])
                row["redis_cpu_us_per_op"] = cpu_per_op(redis, "server_cpu")
                row["ringkv_cpu_us_per_op"] = cpu_per_op(ours, "server_cpu")
                row["cpu_ratio"] = ratio(row["ringkv_cpu_us_per_op"], row["redis_cpu_us_per_op"])
                row["generator_cpu_us_per_op_redis"] = cpu_per_op(redis, "generator_cpu")
                row["generator_cpu_us_per_op_ringkv"] = cpu_per_op(ours, "generator_cpu")
                summary["scenarios"].append(row)
                lines.append(
                    f"{scenario:<14} {wl.upper() + ' ' + dist:<11} "
                    f"{fmt_ops(row['redis_ops_per_sec']):>12} {fmt_ops(row['ringkv_ops_per_sec']):>13} "
                    f"{fmt_ratio(row['ops_ratio']):>6} {fmt_us(row['redis_p99_us']):>13} "
                    f"{fmt_us(row['ringkv_p99_us']):>14} {fmt_ratio(row['p99_ratio']):>6} "
                    f"{'-' if row['ringkv_errors'] is None else row['ringkv_errors']:>7}")

    # CPU per operation: the servers' (every node, or Redis) and the
    # generator's own, user + system over the measured interval.
    lines.append("")
    lines.append("CPU per operation, us (user + system over the measured interval / operations): "
                 "servers = Redis or every ringkv node; generator = ringkv-bench")
    header = (f"{'scenario':<14} {'workload':<11} {'Redis':>8} {'ringkv':>8} {'ratio':>6} "
              f"{'generator vs Redis':>19} {'generator vs ringkv':>20}")
    lines.append(header)
    lines.append("-" * len(header))
    for row in summary["scenarios"]:
        lines.append(
            f"{row['scenario']:<14} {row['workload'] + ' ' + row['distribution']:<11} "
            f"{fmt_us(row['redis_cpu_us_per_op']):>8} {fmt_us(row['ringkv_cpu_us_per_op']):>8} "
            f"{fmt_ratio(row['cpu_ratio']):>6} {fmt_us(row['generator_cpu_us_per_op_redis']):>19} "
            f"{fmt_us(row['generator_cpu_us_per_op_ringkv']):>20}")

    lines.append("")
    lines.append("3: concurrency sweep, workload A uniform, ringkv N=3 R=W=2 vs Redis")
    header = (f"{'in flight':>9} {'Redis ops/s':>12} {'ringkv ops/s':>13} {'ratio':>6} "
              f"{'Redis p99 us':>13} {'ringkv p99 us':>14} {'get p50 us':>11} {'put p50 us':>11} "
              f"{'CPU/op Redis':>13} {'CPU/op ringkv':>14}")
    lines.append(header)
    lines.append("-" * len(header))
    dat = []
    for c in sweep:
        redis = load(runs, f"sweep-redis-a-uniform-c{c}")
        ours = load(runs, f"sweep-ringkv3-a-uniform-c{c}")
        row = {"concurrency": c,
               "redis_ops_per_sec": total(redis, "ops_per_sec"),
               "ringkv_ops_per_sec": total(ours, "ops_per_sec"),
               "redis_p99_us": total(redis, "p99_us"),
               "ringkv_p99_us": total(ours, "p99_us"),
               "ringkv_read_p50_us": op(ours, "read", "p50_us"),
               "ringkv_update_p50_us": op(ours, "update", "p50_us"),
               "redis_cpu_us_per_op": cpu_per_op(redis, "server_cpu"),
               "ringkv_cpu_us_per_op": cpu_per_op(ours, "server_cpu")}
        row["ops_ratio"] = ratio(row["ringkv_ops_per_sec"], row["redis_ops_per_sec"])
        summary["sweep"].append(row)
        lines.append(f"{c:>9} {fmt_ops(row['redis_ops_per_sec']):>12} "
                     f"{fmt_ops(row['ringkv_ops_per_sec']):>13} {fmt_ratio(row['ops_ratio']):>6} "
                     f"{fmt_us(row['redis_p99_us']):>13} {fmt_us(row['ringkv_p99_us']):>14} "
                     f"{fmt_us(row['ringkv_read_p50_us']):>11} {fmt_us(row['ringkv_update_p50_us']):>11} "
                     f"{fmt_us(row['redis_cpu_us_per_op']):>13} {fmt_us(row['ringkv_cpu_us_per_op']):>14}")
        if None not in (row["redis_ops_per_sec"], row["ringkv_ops_per_sec"]):
            dat.append(f"{c} {row['ringkv_ops_per_sec']} {row['redis_ops_per_sec']} "
                       f"{row['ringkv_p99_us']} {row['redis_p99_us']}")

    lines.extend(long_run(load(runs, f"ringkv3-a-uniform-long-c{conc}"), summary))

    # Raw round trip and the serial-latency targets.
    lines.append("")
    ping = {name: op(load(runs, f"{name}-ping-c1"), "ping", "p50_us")
            for name in ("redis", "ringkv1", "ringkv3")}
    summary["ping_p50_us"] = ping
    lines.append("raw round trip, one in flight (ping p50 us): " +
                 ", ".join(f"{k} {fmt_us(v)}" for k, v in ping.items()))
    serial = next((r for r in summary["sweep"] if r["concurrency"] == 1), None)
    if serial and ping["ringkv3"]:
        put_x = ratio(serial["ringkv_update_p50_us"], 2 * ping["ringkv3"])
        get_x = ratio(serial["ringkv_read_p50_us"], ping["ringkv3"])
        summary["targets"]["serial_put_p50_over_2rtt"] = put_x
        summary["targets"]["serial_get_p50_over_rtt"] = get_x
        lines.append(f"serial N=3: put p50 = {fmt_ratio(put_x)} two round trips (target <= 1.2x), "
                     f"get p50 = {fmt_ratio(get_x)} one round trip (target <= 1.3x)")
    client_get = op(load(runs, "ringkv3-client-reads-c1"), "read", "p50_us")
    client_ping = op(load(runs, "ringkv3-client-ping-c1"), "ping", "p50_us")
    if client_get and client_ping:
        x = ratio(client_get, client_ping)
        summary["targets"]["serial_client_get_p50_over_rtt"] = x
        lines.append(f"serial N=3, reads coordinated by the client: get p50 {fmt_us(client_get)} us = "
                     f"{fmt_ratio(x)} one round trip of the same client ({fmt_us(client_ping)} us) "
                     f"(target <= 1.3x)")

    # Targets of scenarios 1 and 2, worst case over the four workloads.
    for scenario, key in (("1: N=1 R=W=1", "scenario1"), ("2: N=3 R=W=2", "scenario2")):
        rows = [r for r in summary["scenarios"] if r["scenario"] == scenario]
        ops = [r["ops_ratio"] for r in rows if r["ops_ratio"] is not None]
        p99s = [r["p99_ratio"] for r in rows if r["p99_ratio"] is not None]
        p99abs = [r["ringkv_p99_us"] for r in rows if r["ringkv_p99_us"] is not None]
        if not ops:
            continue
        summary["targets"][key] = {"min_ops_ratio": min(ops), "max_p99_ratio": max(p99s),
                                   "max_p99_us": max(p99abs)}
        if key == "scenario1":
            lines.append(f"scenario 1: ops ratio min {min(ops):.2f}x (target >= 0.8x), "
                         f"p99 ratio max {max(p99s):.2f}x (target <= 2x)")
        else:
            lines.append(f"scenario 2: ops ratio min {min(ops):.2f}x (target >= 0.7x), "
                         f"p99 max {max(p99abs):,.0f} us (target < 1,500 us)")

    # The generator must not be the bottleneck.
    lines.append("")
    gen = {}
    set_run = "redis-set-check" if load(runs, "redis-set-check") else "redis-load"
    for test, name, what in (("set", set_run, "load phase, 100% SET"),
                             ("get", f"redis-c-uniform-c{conc}", "workload C uniform, 100% GET")):
        rb = redis_benchmark(runs, test, conc)
        ours = load(runs, name)
        if rb and ours:
            gen[test] = {"redis_benchmark_rps": rb["rps"], "ringkv_bench_ops_per_sec": ours["ops_per_sec"],
                         "ringkv_bench_cpu_cores": ours["generator_cpu"]["cores"]}
            lines.append(f"generator check, {test.upper()} at {conc} in flight: redis-benchmark "
                         f"{rb['rps']:,.0f}/s, ringkv-bench {ours['ops_per_sec']:,.0f}/s ({what}; "
                         f"{ratio(ours['ops_per_sec'], rb['rps']):.2f}x), ringkv-bench used "
                         f"{ours['generator_cpu']['cores']:.2f} cores")
    summary["generator_check"] = gen
    cpus = [(name, r["generator_cpu"]["cores"]) for name in
            (f"ringkv1-a-uniform-c{conc}", f"ringkv3-a-uniform-c{conc}")
            if (r := load(runs, name))]
    if cpus:
        lines.append("ringkv-bench CPU against ringkv: " +
                     ", ".join(f"{n} {c:.2f} cores" for n, c in cpus))

    for name in ("ringkv1", "ringkv3"):
        rss = read_rss(runs, name)
        if rss:
            summary[f"{name}_rss_kib"] = rss
            lines.append(f"{name} resident memory (all nodes): idle {rss.get('rss_idle_kib', 0) / 1024:.1f} MiB, "
                         f"after loading 100,000 keys {rss.get('rss_loaded_kib', 0) / 1024:.1f} MiB")
    lines.extend(memory_table(read_rss(runs, "memory"), summary))

    text = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(text)
    with open(out / "summary.json", "w") as f:
        json.dump(summary, f, indent=2)
    for report in runs.glob("*.json"):
        shutil.copy(report, out / report.name)
    for extra in runs.glob("*.csv"):
        shutil.copy(extra, out / extra.name)

    if dat and shutil.which("gnuplot"):
        dat_path = runs / "sweep.dat"
        dat_path.write_text("# in_flight ringkv_ops redis_ops ringkv_p99_us redis_p99_us\n" +
                            "\n".join(dat) + "\n")
        script = f"""
set terminal pngcairo size 1200,500 font ",10"
set output "{out / 'sweep.png'}"
set multiplot layout 1,2 title "ringkv (3 nodes, N=3, R=W=2) vs Redis (AOF everysec): YCSB A uniform, 100-byte values"
set logscale x 2
set xlabel "requests in flight"
set grid
set key top left
set ylabel "ops/s"
set yrange [0:*]
plot "{dat_path}" using 1:2 with linespoints lw 2 title "ringkv", \\
     "{dat_path}" using 1:3 with linespoints lw 2 title "Redis"
set logscale y
set yrange [*:*]
set ylabel "p99 latency (us)"
plot "{dat_path}" using 1:4 with linespoints lw 2 title "ringkv", \\
     "{dat_path}" using 1:5 with linespoints lw 2 title "Redis"
unset multiplot
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=False)
        if (out / "sweep.png").exists():
            text += f"chart: {out / 'sweep.png'}\n"
    print("\n" + text, end="")


if __name__ == "__main__":
    main()
