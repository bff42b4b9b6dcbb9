"""Run inside a fresh network namespace (only ``lo`` up): a real 2-node Ray cluster
(``ray.cluster_utils.Cluster``), ``reprobox batch --cluster`` against it, and the second node
removed mid-batch. Prints one JSON line: what the test asserts on.

Usage: python ray_batch_cluster.py JOBS OUT IMAGE BACKEND REMOVE_AFTER_LINES LABEL
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_DISABLE_DOCKER_CPU_WARNING", "1")


def lines_with(path: Path, node_id: str) -> tuple[int, int]:
    if not path.exists():
        return 0, 0
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.endswith("}")]
    return len(rows), sum(1 for r in rows if node_id[:8] in r.get("node", ""))


def main() -> None:
    jobs, out, image, backend, remove_after, label = sys.argv[1:7]
    from ray.cluster_utils import Cluster

    args = {"num_cpus": 1, "resources": {"reprobox": 2}}
    cluster = Cluster(initialize_head=True, head_node_args={**args, "include_dashboard": False})
    try:
        second = cluster.add_node(**args)
        cluster.wait_for_nodes()
        command = [
            sys.executable,
            "-m",
            "reprobox",
            "batch",
            jobs,
            "--out",
            out,
            "--image",
            image,
            "--backend",
            backend,
            "--cluster",
            cluster.address,
            "--label",
            label,
        ]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        removed_at = None
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            total, on_second = lines_with(Path(out), second.node_id)
            if removed_at is None and total >= int(remove_after) and on_second:
                cluster.remove_node(second, allow_graceful=False)
                removed_at = total
            time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=60)
        print(
            json.dumps(
                {
                    "returncode": proc.returncode,
                    "stdout": stdout,
                    "stderr": stderr,
                    "second": second.node_id,
                    "removed_at": removed_at,
                }
            )
        )
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
