"""End-to-end tests of cli.py, run as a real subprocess.

Each test points TASKS_FILE into its own tempfile.TemporaryDirectory, so
nothing is ever written into the tasks-app folder.  The module checks that
at the end (tearDownModule).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import tasks

APP_DIR = Path(__file__).resolve().parent
CLI = APP_DIR / "cli.py"
COMMANDS = ["add", "list", "done", "undo", "remove", "count", "clear-done", "help"]
ERR = "cli.py: error: "

_app_dir_before = None


def _app_dir_listing():
    # The unittest runner itself may create __pycache__ when it imports the
    # test modules; that is the only thing allowed to appear.
    return sorted(n for n in os.listdir(APP_DIR) if n != "__pycache__")


def setUpModule():
    global _app_dir_before
    _app_dir_before = _app_dir_listing()


def tearDownModule():
    after = _app_dir_listing()
    if after != _app_dir_before:
        raise AssertionError(
            f"tests wrote into the app folder: {sorted(set(after) - set(_app_dir_before))}"
        )


def base_env(**extra):
    env = dict(os.environ)
    env.pop("TASKS_FILE", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ next to cli.py
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run_cli(*args, env=None, cli=CLI, cwd=None, **kw):
    # -S (skip site-packages set-up) only saves start-up time: the app is
    # stdlib only, and some machines import heavy .pth hooks at start-up.
    return subprocess.run(
        [sys.executable, "-S", str(cli), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        **kw,
    )


def run_many(arg_lists, env):
    """Run many independent invocations a few at a time.  Used for error
    cases, which must all leave the state untouched even when they run
    concurrently."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: run_cli(*args, env=env), arg_lists))


TWO_TASKS = (
    b'[\n  {\n    "title": "buy milk",\n    "done": false\n  },\n'
    b'  {\n    "title": "walk dog",\n    "done": true\n  }\n]\n'
)


class CliTestCase(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        self.path = self.dir / "tasks.json"
        self.env = base_env(TASKS_FILE=str(self.path))

    def cli(self, *args):
        return run_cli(*args, env=self.env)

    def ok(self, *args):
        r = self.cli(*args)
        self.assertEqual((r.returncode, r.stderr), (0, ""), (args, r))
        return r.stdout

    def snapshot(self):
        if not os.path.lexists(self.path):
            return None
        st = os.stat(self.path)
        data = b"<dir>" if self.path.is_dir() else self.path.read_bytes()
        return (data, st.st_mtime_ns, st.st_ino)

    def assert_one_line_error(self, r, code, *fragments):
        self.assertEqual(r.returncode, code, r)
        self.assertEqual(r.stdout, "", r)
        self.assertTrue(r.stderr.endswith("\n"), r)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith(ERR), lines[0])
        self.assertNotIn("Traceback", r.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def assert_no_temp_files(self):
        stray = [n for n in os.listdir(self.dir) if n not in ("tasks.json", "tasks.json.lock")]
        self.assertEqual(stray, [])


class HelpTests(CliTestCase):
    def test_help_variants(self):
        for flag in ("--help", "-h", "help"):
            with self.subTest(flag):
                out = self.ok(flag)
                self.assertTrue(out.startswith("usage: "), out)
                for command in COMMANDS:
                    self.assertIn(f"  {command}", out)
        self.assertFalse(self.path.exists())

    def test_command_help(self):
        self.assertIn("usage: ", self.ok("done", "--help"))
        self.assertIn("usage: ", self.ok("add", "-h"))
        self.assertFalse(self.path.exists())

    def test_no_arguments(self):
        r = self.cli()
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("cli.py: error: missing command"), r.stderr)
        for command in COMMANDS:
            self.assertIn(command, r.stderr)
        self.assertFalse(self.path.exists())


class CommandTests(CliTestCase):
    def test_empty_state(self):
        self.assertEqual(self.ok("list"), "(no tasks yet)\n")
        self.assertEqual(self.ok("count"), "0\n")
        self.assertEqual(self.ok("clear-done"), "0\n")
        self.assertFalse(self.path.exists())  # reads never create it

    def test_full_session(self):
        self.assertEqual(self.ok("add", "buy", "milk"), "added 0. [ ] buy milk\n")
        self.assertEqual(self.ok("add", "walk the dog"), "added 1. [ ] walk the dog\n")
        self.assertEqual(self.ok("add", "--", "-5 degrees"), "added 2. [ ] -5 degrees\n")
        self.assertEqual(
            self.ok("list"), "0. [ ] buy milk\n1. [ ] walk the dog\n2. [ ] -5 degrees\n"
        )
        self.assertEqual(self.ok("count"), "3\n")
        self.assertEqual(self.ok("done", "1"), "done 1. [x] walk the dog\n")
        self.assertEqual(self.ok("count"), "2\n")
        self.assertEqual(self.ok("done", "0"), "done 0. [x] buy milk\n")
        self.assertEqual(self.ok("undo", "0"), "undone 0. [ ] buy milk\n")
        self.assertEqual(
            self.ok("list"), "0. [ ] buy milk\n1. [x] walk the dog\n2. [ ] -5 degrees\n"
        )
        self.assertEqual(self.ok("remove", "2"), "removed 2. [ ] -5 degrees\n")
        self.assertEqual(self.ok("clear-done"), "1\n")
        self.assertEqual(self.ok("list"), "0. [ ] buy milk\n")
        self.assertEqual(self.ok("count"), "1\n")
        self.assertEqual(
            self.path.read_bytes(), b'[\n  {\n    "title": "buy milk",\n    "done": false\n  }\n]\n'
        )
        self.assert_no_temp_files()

    def test_unicode_title_stored_as_utf8(self):
        self.assertEqual(self.ok("add", "café", "☕"), "added 0. [ ] café ☕\n")
        self.assertIn("café ☕".encode(), self.path.read_bytes())
        self.assertEqual(self.ok("list"), "0. [ ] café ☕\n")

    def test_title_kept_as_given(self):
        self.ok("add", " spaced  out ")
        self.assertEqual(tasks.load(self.path).tasks[0].title, " spaced  out ")

    def test_empty_tasks_file_env_means_default(self):
        # TASKS_FILE="" is treated like unset; run a copy so the real
        # tasks-app folder is never written.
        app = self.dir / "app"
        app.mkdir()
        for name in ("cli.py", "tasks.py"):
            shutil.copy2(APP_DIR / name, app / name)
        r = run_cli("add", "x", env=base_env(TASKS_FILE=""), cli=app / "cli.py", cwd=self.dir)
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue((app / "tasks.json").exists())


class DefaultLocationTests(unittest.TestCase):
    def test_state_file_next_to_cli(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            app, elsewhere = tmp / "app", tmp / "elsewhere"
            app.mkdir()
            elsewhere.mkdir()
            for name in ("cli.py", "tasks.py"):
                shutil.copy2(APP_DIR / name, app / name)
            env = base_env()  # TASKS_FILE removed
            r = run_cli("add", "milk", env=env, cli=app / "cli.py", cwd=elsewhere)
            self.assertEqual((r.returncode, r.stdout), (0, "added 0. [ ] milk\n"), r)
            self.assertEqual(
                sorted(os.listdir(app)), ["cli.py", "tasks.json", "tasks.json.lock", "tasks.py"]
            )
            self.assertEqual(os.listdir(elsewhere), [])
            r = run_cli("list", env=env, cli=app / "cli.py", cwd=elsewhere)
            self.assertEqual(r.stdout, "0. [ ] milk\n")


class UsageErrorTests(CliTestCase):
    """Exit 2, one line on stderr, state file byte-identical."""

    CASES: ClassVar[list[tuple[tuple[str, ...], tuple[str, ...]]]] = [
        # (args, fragments expected in the error line)
        (("done", "99"), ("no task 99",)),
        (("undo", "2"), ("no task 2",)),
        (("remove", "99"), ("no task 99",)),
        (("done", "x"), ("whole number", "'x'")),
        (("done", "1.5"), ("whole number",)),
        (("done", ""), ("whole number",)),
        (("done", "-1"), ("no task -1",)),
        (("remove", "-1"), ("no task -1",)),
        (("done", "9" * 5000), ("too large",)),
        (("done",), ("missing task number",)),
        (("undo",), ("missing task number",)),
        (("remove",), ("missing task number",)),
        (("done", "0", "1"), ("expected one task number",)),
        (("add",), ("missing task title",)),
        (("add", "--"), ("missing task title",)),
        (("add", ""), ("title must not be empty",)),
        (("add", "   "), ("title must not be empty",)),
        (("add", "", ""), ("title must not be empty",)),
        (("add", "a\nb"), ("single line",)),
        (("add", "a\x1b[31mb"), ("control characters",)),
        (("frob",), ("unknown command 'frob'",)),
        (("LIST",), ("unknown command",)),
        (("--version",), ("unknown command",)),
        (("list", "extra"), ("takes no arguments",)),
        (("count", "1"), ("takes no arguments",)),
        (("clear-done", "all"), ("takes no arguments",)),
    ]

    def check_cases(self, cases=None):
        cases = self.CASES if cases is None else cases
        before = self.snapshot()
        results = run_many([args for args, _ in cases], self.env)
        for (args, fragments), r in zip(cases, results, strict=True):
            with self.subTest(args=args[:3]):
                self.assert_one_line_error(r, 2, *fragments)
        self.assertEqual(self.snapshot(), before)
        self.assert_no_temp_files()

    def test_with_existing_state(self):
        self.path.write_bytes(TWO_TASKS)
        self.check_cases()
        self.assertEqual(self.path.read_bytes(), TWO_TASKS)

    def test_exact_messages(self):
        self.path.write_bytes(TWO_TASKS)
        for args, line in [
            (("done", "99"), "done: no task 99 (there are 2 tasks)"),
            (("done", "x"), "done: task number must be a whole number, got 'x'"),
            (("done", "-1"), "done: no task -1 (there are 2 tasks)"),
            (("add", "  "), "add: title must not be empty"),
        ]:
            with self.subTest(args=args):
                r = self.cli(*args)
                self.assertEqual((r.returncode, r.stderr), (2, ERR + line + "\n"))
        self.assertEqual(self.path.read_bytes(), TWO_TASKS)

    def test_without_state_file(self):
        # Argument checks do not depend on the state; these cases do.
        self.check_cases(
            [
                (("done", "0"), ("no task 0", "there are no tasks")),
                (("undo", "-1"), ("no task -1",)),
                (("remove", "3"), ("no task 3",)),
                (("add", " "), ("title must not be empty",)),
            ]
        )
        self.assertFalse(self.path.exists())
        self.assert_no_temp_files()  # the lock file may exist: it is not state

    def test_undecodable_argument(self):
        # Bytes that are not UTF-8 arrive as lone surrogates: refused, and
        # never written as invalid UTF-8 into the JSON file.
        r = subprocess.run(
            [sys.executable, "-S", str(CLI), "add", b"caf\xe9"], env=self.env, capture_output=True
        )
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertFalse(self.path.exists())


class StateFileErrorTests(CliTestCase):
    """Exit 1, one line naming the file, file untouched (bytes, mtime, inode)."""

    CORRUPT: ClassVar[dict[str, bytes]] = {
        "bad json": b'[{"title": "a", "done": false}',
        "truncated to nothing": b"",
        "not utf-8": b'[{"title": "caf\xe9", "done": false}]\n',
        "object not list": b'{"tasks": []}\n',
        "list of strings": b'["buy milk"]\n',
        "missing title": b'[{"done": false}]\n',
        "non-str title": b'[{"title": ["a"], "done": false}]\n',
        "non-bool done": b'[{"title": "a", "done": 1}]\n',
        # More shapes are covered in-process by test_tasks.py.
    }
    COMMANDS: ClassVar[list[tuple[str, ...]]] = [
        ("list",),
        ("count",),
        ("add", "new"),
        ("done", "0"),
        ("undo", "0"),
        ("remove", "0"),
        ("clear-done",),
        ("done", "99"),
    ]

    def check_all_commands(self, *fragments, commands=COMMANDS):
        before = self.snapshot()
        for args, r in zip(commands, run_many(commands, self.env), strict=True):
            with self.subTest(args=args):
                self.assert_one_line_error(r, 1, str(self.path), *fragments)
        self.assertEqual(self.snapshot(), before)

    def test_corrupt_files(self):
        for i, (name, raw) in enumerate(self.CORRUPT.items()):
            with self.subTest(name):
                self.path.write_bytes(raw)
                os.utime(self.path, ns=(1_000_000_000, 1_000_000_000))
                # Every command on the first file; a reader and a writer
                # on the others (all commands share the same load path).
                commands = self.COMMANDS if i == 0 else [("list",), ("add", "new")]
                self.check_all_commands(
                    "is not valid task data", "fix or move it away", commands=commands
                )
                self.assert_no_temp_files()

    def test_exact_corrupt_message(self):
        self.path.write_bytes(b"[1]\n")
        r = self.cli("add", "x")
        self.assertEqual(
            (r.returncode, r.stderr),
            (
                1,
                (
                    f"{ERR}{self.path} is not valid task data: item 0: expected an "
                    "object, found a number; fix or move it away\n"
                ),
            ),
        )

    def test_directory_at_path(self):
        self.path.mkdir()
        (self.path / "keep").write_text("x")
        self.check_all_commands("is a directory")
        self.assertEqual(os.listdir(self.path), ["keep"])

    def test_missing_folder(self):
        self.env["TASKS_FILE"] = str(self.dir / "nope" / "tasks.json")
        commands = [("list",), ("add", "x"), ("done", "0")]
        for args, r in zip(commands, run_many(commands, self.env), strict=True):
            with self.subTest(args=args):
                self.assert_one_line_error(r, 1, "does not exist")
        self.assertEqual(os.listdir(self.dir), [])

    @unittest.skipIf(os.geteuid() == 0, "root can read any file")
    def test_unreadable_file(self):
        self.path.write_bytes(TWO_TASKS)
        os.chmod(self.path, 0o200)  # write-only: cannot be read
        self.addCleanup(os.chmod, self.path, 0o600)
        st = os.stat(self.path)
        for args, r in zip(self.COMMANDS, run_many(self.COMMANDS, self.env), strict=True):
            with self.subTest(args=args):
                self.assert_one_line_error(r, 1, str(self.path), "cannot read", "permission denied")
        after = os.stat(self.path)
        self.assertEqual(
            (after.st_ino, after.st_mtime_ns, after.st_mode),
            (st.st_ino, st.st_mtime_ns, st.st_mode),
        )
        os.chmod(self.path, 0o600)
        self.assertEqual(self.path.read_bytes(), TWO_TASKS)

    @unittest.skipIf(os.geteuid() == 0, "root can write any folder")
    def test_unwritable_folder(self):
        self.path.write_bytes(TWO_TASKS)
        (self.dir / "tasks.json.lock").touch()
        os.chmod(self.dir, 0o555)
        self.addCleanup(os.chmod, self.dir, 0o700)
        before = self.snapshot()
        r = self.cli("add", "x")
        self.assert_one_line_error(r, 1, str(self.dir))
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.ok("count"), "1\n")  # reading still works


class SignalTests(CliTestCase):
    def test_broken_pipe_is_quiet(self):
        tl = tasks.TaskList()
        for i in range(20000):  # far more than a pipe buffer holds
            tl.add(f"task number {i}")
        tasks.save(self.path, tl)
        p = subprocess.Popen(
            [sys.executable, "-S", str(CLI), "list"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        p.stdout.read(10)
        p.stdout.close()
        err = p.stderr.read()
        p.stderr.close()
        rc = p.wait(timeout=30)
        self.assertEqual(err, b"")
        self.assertEqual(rc, 128 + signal.SIGPIPE)

    def wait_until_blocked_on_lock(self, p):
        # The child has the lock file open once it is waiting in flock().
        lock = str(tasks.lock_path_for(self.path))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                fds = os.listdir(f"/proc/{p.pid}/fd")
                if any(os.readlink(f"/proc/{p.pid}/fd/{fd}") == lock for fd in fds):
                    time.sleep(0.05)  # from open() into flock()
                    return
            except OSError:
                pass
            time.sleep(0.01)
        self.fail("the CLI never opened the lock file")

    @unittest.skipUnless(os.path.isdir("/proc/self/fd"), "needs /proc")
    def test_signals_while_waiting_for_the_lock(self):
        # SIGTERM (docker stop) -> 143, Ctrl-C -> 130: quiet, state untouched.
        self.path.write_bytes(TWO_TASKS)
        before = self.snapshot()
        for sig, code, stderr in [
            (signal.SIGTERM, 143, ""),
            (signal.SIGINT, 130, ERR + "interrupted\n"),
        ]:
            with self.subTest(signal=sig.name), tasks.locked(self.path):
                p = subprocess.Popen(
                    [sys.executable, "-S", str(CLI), "add", "blocked"],
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                self.wait_until_blocked_on_lock(p)
                p.send_signal(sig)
                out, err = p.communicate(timeout=20)
                self.assertEqual((p.returncode, out, err), (code, "", stderr))
        self.assertEqual(self.snapshot(), before)
        self.assert_no_temp_files()


if __name__ == "__main__":
    unittest.main()
