"""Run inside a fresh network namespace (only ``lo`` up): a real 2-node Ray cluster
(``ray.cluster_utils.Cluster``), ``reprobox batch --cluster`` against it, and, with
``--remove-after N``, the second node removed once N results are written and some ran there.
With ``--ray-client`` the head also runs a Ray Client server and the batch connects to it by
its ``ray://`` address; with ``--client-server-dies-once MARKER`` the first server it starts for
a driver dies at birth, as Ray's proxier sometimes loses it (ray-project/ray#63202), and
MARKER records that it did. Prints one JSON line: what the test asserts on.

Usage: python ray_batch_cluster.py JOBS OUT IMAGE BACKEND LABEL [--remove-after N]
       [--ray-client [--client-server-dies-once MARKER]]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_DISABLE_DOCKER_CPU_WARNING", "1")
CLIENT_PORT = 10001  # the namespace is the test's own: no other listener
# A sitecustomize for the cluster's processes: the first per-driver Ray Client server (the
# proxier starts it with --mode=specific-server) exits before it serves.
DIES_ONCE = """import os
with open("/proc/self/cmdline", "rb") as f:
    if b"--mode=specific-server" in f.read().split(b"\\0"):
        try:
            os.close(os.open({marker!r}, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            os._exit(1)
"""


def lines_with(path: Path, node_id: str) -> tuple[int, int]:
    if not path.exists():
        return 0, 0
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.endswith("}")]
    return len(rows), sum(1 for r in rows if node_id[:8] in r.get("node", ""))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    for name in ("jobs", "out", "image", "backend", "label"):
        parser.add_argument(name)
    parser.add_argument("--remove-after", type=int, default=None)
    parser.add_argument("--ray-client", action="store_true")
    parser.add_argument("--client-server-dies-once", metavar="MARKER", default=None)
    return parser.parse_args()


def kill_first_client_server(marker: str) -> None:
    """Make the first per-driver Ray Client server of the cluster about to start die at birth."""
    folder = Path(marker).with_suffix(".site")
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(DIES_ONCE.format(marker=marker))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(folder), *filter(None, [os.environ.get("PYTHONPATH")])]
    )


def main() -> None:
    args = arguments()
    if args.client_server_dies_once:
        kill_first_client_server(args.client_server_dies_once)
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "resources": {"reprobox": 2}}
    head = {**node, "include_dashboard": False}
    if args.ray_client:
        head["ray_client_server_port"] = CLIENT_PORT
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        second = cluster.add_node(**node)
        cluster.wait_for_nodes()
        address = f"ray://127.0.0.1:{CLIENT_PORT}" if args.ray_client else cluster.address
        command = [
            *(sys.executable, "-m", "reprobox", "batch", args.jobs, "--out", args.out),
            *("--image", args.image, "--backend", args.backend, "--label", args.label),
            *("--cluster", address),
        ]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        removed_at = None
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            if removed_at is None and args.remove_after is not None:
                total, on_second = lines_with(Path(args.out), second.node_id)
                if total >= args.remove_after and on_second:
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
                    "head": cluster.head_node.node_id,
                    "second": second.node_id,
                    "removed_at": removed_at,
                }
            )
        )
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
