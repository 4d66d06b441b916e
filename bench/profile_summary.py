"""Instructions per operation by function, from bench/profile.sh's dumps.

usage: profile_summary.py OUT [TOP]

For each build and cluster size: the nodes' dumps (prof-I-NODES.PID.1) are
annotated by callgrind_annotate, inclusive and exclusive, summed over the
nodes by function and divided by the run's operations (its JSON report).
Prints the total per operation and the TOP functions of the first build by
inclusive and by exclusive count, with every other build's count of the
same function beside it.
"""
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*?)(?: \[[^\]]*\])?\s*$")
FILE_PREFIX = re.compile(r"^[^:]*:(?!:)")


def annotate(dump, inclusive):
    """{function: instructions} of one dump."""
    text = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100",
         str(dump)],
        check=True, capture_output=True, text=True).stdout
    costs = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or m.group(2) == "PROGRAM TOTALS":
            continue
        name = FILE_PREFIX.sub("", m.group(2), count=1)
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def per_op(out, build, nodes):
    """(total, inclusive, exclusive) per operation, or None without a run."""
    report = out / f"prof-{build}-{nodes}.json"
    if not report.exists():
        return None
    ops = json.loads(report.read_text()).get("ops")
    dumps = sorted(out.glob(f"prof-{build}-{nodes}.*.1"))
    if not ops or not dumps:
        return None
    inclusive, exclusive = defaultdict(float), defaultdict(float)
    for dump in dumps:
        for name, ir in annotate(dump, True).items():
            inclusive[name] += ir / ops
        for name, ir in annotate(dump, False).items():
            exclusive[name] += ir / ops
    return sum(exclusive.values()), inclusive, exclusive


def short(name, width=100):
    return name if len(name) <= width else name[: width - 3] + "..."


def main():
    out = Path(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    builds = [line.split()[0] for line in (out / "srcs.txt").read_text().splitlines()]
    for line in (out / "srcs.txt").read_text().splitlines():
        print("build", line)
    for nodes in (1, 3):
        runs = {b: per_op(out, b, nodes) for b in builds}
        if runs[builds[0]] is None:
            continue
        print(f"\n## {nodes} node(s), workload A uniform: instructions per operation, nodes summed")
        print("| build | total |")
        print("|---|---:|")
        for b in builds:
            if runs[b]:
                print(f"| {b} | {runs[b][0]:,.0f} |")
        for title, index in (("inclusive", 1), ("exclusive", 2)):
            print(f"\n### top {top} by {title} count (build {builds[0]}), per operation")
            print("| function | " + " | ".join(f"build {b}" for b in builds) + " |")
            print("|---|" + "---:|" * len(builds))
            first = runs[builds[0]][index]
            for name, _ in sorted(first.items(), key=lambda kv: -kv[1])[:top]:
                cells = [f"{runs[b][index].get(name, 0):,.0f}" if runs[b] else "-" for b in builds]
                print(f"| `{short(name)}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
