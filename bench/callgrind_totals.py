"""Instructions per operation from the callgrind dumps of a cluster's nodes.

bench/lib.sh's count_instructions switches counting on for one generator
run and then has each node write one dump (PREFIX.PID.1); the generator's
JSON report gives the run's operations. Used by ab_summary.py and
aae_cost.sh.
"""
import json
from pathlib import Path


def instructions_per_op(report_path, dump_prefix):
    """Every node's counted instructions over the run's operations, or None."""
    report_path, dump_prefix = Path(report_path), Path(dump_prefix)
    if not report_path.exists():
        return None
    ops = json.loads(report_path.read_text()).get("ops")
    if not ops:
        return None
    total = 0
    # The dump taken on request (PID.1); the one at exit holds nothing, and
    # "summary:" near the top can read 0 for a dump taken on request.
    for dump in dump_prefix.parent.glob(f"{dump_prefix.name}.*.1"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total / ops if total else None
