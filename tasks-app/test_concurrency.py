"""Concurrency and crash-safety tests for the storage layer.

* 8 processes add 50 tasks each at the same moment: exactly 400 distinct
  tasks must survive (no lost update).
* A writer adding tasks in a tight loop is SIGKILLed at random instants,
  many times: the state file must always be absent (nothing written yet)
  or complete, valid task data holding every acknowledged task.  At most
  one stale temp file ``.tasks.json.XXXXXXXX.tmp`` may exist right after a
  kill (killed between mkstemp and rename); the next write removes it.
"""

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import tasks

APP_DIR = Path(__file__).resolve().parent
CLI = APP_DIR / "cli.py"


def child_env(path):
    env = dict(os.environ)
    env["TASKS_FILE"] = str(path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the app dir
    env["PYTHONPATH"] = str(APP_DIR)
    return env


# Runs in each adder process: wait for "go" on stdin, then 50 locked adds.
ADDER = """
import os, sys
import tasks
path, worker, n = os.environ["TASKS_FILE"], sys.argv[1], int(sys.argv[2])
sys.stdin.readline()
for i in range(n):
    with tasks.transaction(path) as tl:
        tl.add(f"worker {worker} task {i}")
"""

# Runs in the writer that gets killed: add forever, and acknowledge each
# committed title on stdout with a single write() (atomic on a pipe).
WRITER = """
import os, sys
import tasks
path, prefix = os.environ["TASKS_FILE"], sys.argv[1]
i = 0
while True:
    title = f"{prefix} {i}"
    with tasks.transaction(path) as tl:
        tl.add(title)
    os.write(1, (title + "\\n").encode())
    i += 1
"""


class ConcurrentAddTests(unittest.TestCase):
    WORKERS = 8
    PER_WORKER = 50

    def test_parallel_adders_lose_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "tasks.json"
            env = child_env(path)
            procs = [
                subprocess.Popen(
                    [sys.executable, "-S", "-c", ADDER, str(w), str(self.PER_WORKER)],
                    env=env,
                    stdin=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                for w in range(self.WORKERS)
            ]
            for p in procs:  # all started: release them together
                p.stdin.write(b"go\n")
                p.stdin.close()
            for p in procs:
                err = p.stderr.read()
                p.stderr.close()
                self.assertEqual((p.wait(timeout=60), err), (0, b""))
            titles = [t.title for t in tasks.load(path).tasks]
            expected = {
                f"worker {w} task {i}" for w in range(self.WORKERS) for i in range(self.PER_WORKER)
            }
            self.assertEqual(len(titles), self.WORKERS * self.PER_WORKER)
            self.assertEqual(set(titles), expected)
            # Each worker's own tasks stay in the order it added them.
            for w in range(self.WORKERS):
                mine = [t for t in titles if t.startswith(f"worker {w} ")]
                self.assertEqual(mine, [f"worker {w} task {i}" for i in range(self.PER_WORKER)])
            self.assertEqual(sorted(os.listdir(tmp)), ["tasks.json", "tasks.json.lock"])

    def test_parallel_cli_adds(self):
        # The same through the real command line, fewer rounds (each
        # invocation pays Python's start-up).
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "tasks.json"
            env = child_env(path)
            del env["PYTHONPATH"]
            procs = [
                subprocess.Popen(
                    [sys.executable, "-S", str(CLI), "add", f"cli {w} {i}"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                for i in range(2)
                for w in range(8)
            ]
            for p in procs:
                err = p.stderr.read()
                p.stderr.close()
                self.assertEqual((p.wait(timeout=60), err), (0, b""))
            titles = sorted(t.title for t in tasks.load(path).tasks)
            self.assertEqual(titles, sorted(f"cli {w} {i}" for i in range(2) for w in range(8)))


class KillTests(unittest.TestCase):
    ITERATIONS = 30

    def test_sigkill_never_corrupts(self):
        rng = random.Random()
        seed = rng.randrange(1 << 30)
        rng.seed(seed)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            path = tmp / "tasks.json"
            env = child_env(path)
            on_disk: list[str] = []  # titles known to be in the file
            temp_seen = 0
            for it in range(self.ITERATIONS):
                msg = f"seed {seed}, iteration {it}"
                prefix = f"k{it}"
                p = subprocess.Popen(
                    [sys.executable, "-S", "-c", WRITER, prefix],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(rng.uniform(0.0, 0.25))
                p.send_signal(signal.SIGKILL)
                acked = p.stdout.read().decode().splitlines()
                p.stdout.close()
                self.assertEqual(p.wait(timeout=30), -signal.SIGKILL, msg)

                names = sorted(os.listdir(tmp))
                temps = [n for n in names if tasks.is_temp_file_for(path, n)]
                others = [n for n in names if n not in temps]
                self.assertLessEqual(len(temps), 1, (msg, names))
                temp_seen += len(temps)
                for name in temps:  # mkstemp-style, hidden, .tmp suffix
                    self.assertRegex(
                        name,
                        r"^\.tasks\.json\.[a-z0-9_]{8}"
                        r"\.tmp$",
                    )

                if not path.exists():
                    # Only possible while nothing was ever committed.
                    self.assertEqual((on_disk, acked), ([], []), msg)
                    self.assertIn(others, ([], ["tasks.json.lock"]), msg)
                    continue
                self.assertEqual(others, ["tasks.json", "tasks.json.lock"], msg)
                raw = path.read_bytes()
                self.assertTrue(raw.endswith(b"]\n"), (msg, raw[-50:]))
                titles = [t.title for t in tasks.load(path).tasks]
                self.assertTrue(all(not t.done for t in tasks.load(path).tasks))
                # Append-only history: everything from before is still
                # there, in order; every acknowledged add is there; at most
                # one more add committed just before the kill.
                self.assertEqual(titles[: len(on_disk)], on_disk, msg)
                new = titles[len(on_disk) :]
                expected = [f"{prefix} {i}" for i in range(len(acked))]
                self.assertEqual(acked, expected, msg)
                self.assertIn(new, (expected, [*expected, f"{prefix} {len(acked)}"]), msg)
                on_disk = titles
            self.assertGreater(len(on_disk), 0, "writer never committed")

            # The next successful write cleans up any stale temp file.
            with tasks.transaction(path) as tl:
                tl.add("after the storm")
            self.assertEqual(sorted(os.listdir(tmp)), ["tasks.json", "tasks.json.lock"])
            self.assertEqual(tasks.load(path).tasks[-1].title, "after the storm")
            if os.environ.get("TASKS_TEST_VERBOSE"):
                print(
                    f"\n{len(on_disk)} tasks, stale temp files seen "
                    f"after {temp_seen} of {self.ITERATIONS} kills",
                    file=sys.stderr,
                )


if __name__ == "__main__":
    unittest.main()
