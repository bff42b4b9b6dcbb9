"""Unit tests for the model and the storage layer in tasks.py (in-process).

Every file these tests create lives in a tempfile.TemporaryDirectory.
"""

import fcntl
import json
import os
import stat
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import tasks
from tasks import CorruptStateError, StoreError, Task, TaskList


def make(*specs):
    """make(("a", False), ("b", True)) -> TaskList"""
    return TaskList([Task(t, d) for t, d in specs])


class TaskTests(unittest.TestCase):
    def test_defaults(self):
        t = Task("milk")
        self.assertEqual(t.title, "milk")
        self.assertIs(t.done, False)

    def test_title_kept_as_given(self):
        self.assertEqual(Task("  padded  ").title, "  padded  ")
        self.assertEqual(Task("tab\tinside").title, "tab\tinside")

    def test_bad_titles(self):
        for bad in [
            "",
            " ",
            "   \t ",
            "\u3000",
            "a\nb",
            "a\rb",
            "line\n",
            "a\u2028b",
            "a\x1bb",
            "a\x00b",
            "\udce9t\u00e9",
        ]:
            with self.subTest(title=bad), self.assertRaises(ValueError):
                Task(bad)

    def test_non_string_title(self):
        with self.assertRaises(TypeError):
            Task(3)

    def test_non_bool_done(self):
        with self.assertRaises(TypeError):
            Task("x", 1)

    def test_default_factory_not_shared(self):
        a, b = TaskList(), TaskList()
        a.add("x")
        self.assertEqual(b.tasks, [])


class TaskListTests(unittest.TestCase):
    def test_add_returns_task_and_appends(self):
        tl = TaskList()
        t = tl.add("buy milk")
        self.assertEqual(t, Task("buy milk", False))
        self.assertIs(tl.tasks[-1], t)
        tl.add("walk dog")
        self.assertEqual([t.title for t in tl.tasks], ["buy milk", "walk dog"])
        self.assertEqual(len(tl), 2)

    def test_add_rejects_bad_titles_without_change(self):
        tl = make(("a", False))
        for bad in ["", "   ", "x\ny"]:
            with self.subTest(title=bad):
                with self.assertRaises(ValueError):
                    tl.add(bad)
                self.assertEqual(tl, make(("a", False)))

    def test_complete_and_undo(self):
        tl = make(("a", False), ("b", False))
        self.assertEqual(tl.complete(1), Task("b", True))
        self.assertEqual(tl, make(("a", False), ("b", True)))
        tl.complete(1)  # idempotent
        self.assertEqual(tl, make(("a", False), ("b", True)))
        self.assertEqual(tl.undo(1), Task("b", False))
        tl.undo(0)  # idempotent
        self.assertEqual(tl, make(("a", False), ("b", False)))

    def test_remove(self):
        tl = make(("a", False), ("b", True), ("c", False))
        self.assertEqual(tl.remove(1), Task("b", True))
        self.assertEqual(tl, make(("a", False), ("c", False)))

    def test_clear_done(self):
        tl = make(("a", True), ("b", False), ("c", True))
        self.assertEqual(tl.clear_done(), 2)
        self.assertEqual(tl, make(("b", False)))
        self.assertEqual(tl.clear_done(), 0)
        self.assertEqual(TaskList().clear_done(), 0)

    def test_pending_and_pending_count(self):
        tl = make(("a", True), ("b", False), ("c", False))
        self.assertEqual(tl.pending(), [Task("b"), Task("c")])
        self.assertEqual(tl.pending_count(), 2)  # counts the NOT done ones
        tl.complete(1)
        self.assertEqual(tl.pending_count(), 1)
        self.assertEqual(TaskList().pending_count(), 0)
        self.assertEqual(make(("a", True)).pending_count(), 0)

    def test_render_empty(self):
        self.assertEqual(TaskList().render(), "(no tasks yet)")

    def test_render_exact(self):
        tl = make(("buy milk", False), ("walk dog", True), (" x ", False))
        self.assertEqual(tl.render(), "0. [ ] buy milk\n1. [x] walk dog\n2. [ ]  x ")
        self.assertEqual(tl.render_line(1), "1. [x] walk dog")

    def test_index_errors(self):
        tl = make(("a", False), ("b", False))
        for method in (tl.complete, tl.undo, tl.remove, tl.render_line):
            for index in (2, 99, -1, -3):
                with self.subTest(method=method.__name__, index=index):
                    with self.assertRaises(IndexError) as cm:
                        method(index)
                    self.assertEqual(str(cm.exception), f"no task {index} (there are 2 tasks)")
        self.assertEqual(tl, make(("a", False), ("b", False)))

    def test_index_error_wording(self):
        with self.assertRaisesRegex(IndexError, r"^no task 0 \(there are no tasks\)$"):
            TaskList().complete(0)
        with self.assertRaisesRegex(IndexError, r"^no task 5 \(there is 1 task\)$"):
            make(("a", False)).remove(5)

    def test_index_type_errors(self):
        tl = make(("a", False), ("b", False))
        for index in (True, "0", 1.0, None):
            with self.subTest(index=index), self.assertRaises(TypeError):
                tl.complete(index)

    def test_json_roundtrip(self):
        tl = make(("a", False), ("café ☕", True))
        data = tl.to_json_data()
        self.assertEqual(data, [{"title": "a", "done": False}, {"title": "café ☕", "done": True}])
        self.assertEqual(TaskList.from_json_data(data), tl)
        self.assertEqual(TaskList.from_json_data([]), TaskList())

    def test_from_json_data_rejects_wrong_shapes(self):
        cases = {
            "not a list": {"title": "a", "done": False},
            "null": None,
            "string": "tasks",
            "item not object": [["a", False]],
            "item is string": ["a"],
            "missing title": [{"done": False}],
            "missing done": [{"title": "a"}],
            "title not str": [{"title": 5, "done": False}],
            "title null": [{"title": None, "done": False}],
            "done not bool": [{"title": "a", "done": 0}],
            "done string": [{"title": "a", "done": "false"}],
            "empty title": [{"title": " ", "done": False}],
            "newline title": [{"title": "a\nb", "done": False}],
            "extra key": [{"title": "a", "done": False, "due": "today"}],
        }
        for name, data in cases.items():
            with self.subTest(name), self.assertRaises(ValueError) as cm:
                TaskList.from_json_data(data)
            self.assertTrue(str(cm.exception))


class StoreTestCase(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        self.path = self.dir / "tasks.json"

    def write_raw(self, data: bytes):
        self.path.write_bytes(data)
        return self.snapshot()

    def snapshot(self):
        st = os.stat(self.path)
        return (self.path.read_bytes(), st.st_mtime_ns, st.st_ino)

    def names(self):
        return sorted(os.listdir(self.dir))


class LoadSaveTests(StoreTestCase):
    def test_missing_file_is_empty_and_not_created(self):
        self.assertEqual(tasks.load(self.path), TaskList())
        self.assertEqual(self.names(), [])

    def test_missing_folder_is_an_error(self):
        with self.assertRaisesRegex(StoreError, "does not exist"):
            tasks.load(self.dir / "nope" / "tasks.json")

    def test_save_format_exact(self):
        tasks.save(self.path, make(("buy milk", False), ("café ☕", True)))
        expected = (
            '[\n  {\n    "title": "buy milk",\n    "done": false\n'
            '  },\n  {\n    "title": "café ☕",\n    "done": true\n'
            "  }\n]\n"
        ).encode()
        self.assertEqual(self.path.read_bytes(), expected)
        self.assertEqual(self.names(), ["tasks.json"])  # no temp left

    def test_save_empty_list(self):
        tasks.save(self.path, TaskList())
        self.assertEqual(self.path.read_bytes(), b"[]\n")
        self.assertEqual(tasks.load(self.path), TaskList())

    def test_roundtrip(self):
        tl = make(("a", True), ("b\tc", False), ("  d", False))
        tasks.save(self.path, tl)
        self.assertEqual(tasks.load(self.path), tl)

    def test_new_file_mode_follows_umask(self):
        old = os.umask(0o027)
        try:
            tasks.save(self.path, make(("a", False)))
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o640)

    def test_existing_mode_kept(self):
        tasks.save(self.path, TaskList())
        os.chmod(self.path, 0o600)
        tasks.save(self.path, make(("a", False)))
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)

    def test_corrupt_files_raise_and_stay_untouched(self):
        cases = {
            "bad json": b"[{",
            "empty": b"",
            "whitespace only": b"  \n",
            "not utf-8": b'[{"title": "caf\xe9", "done": false}]',
            "not a list": b'{"title": "a", "done": false}\n',
            "item not object": b"[1, 2]\n",
            "missing title": b'[{"done": false}]\n',
            "non-str title": b'[{"title": 1, "done": false}]\n',
            "non-bool done": b'[{"title": "a", "done": "yes"}]\n',
            "deep nesting": b"[" * 100000 + b"]" * 100000,
        }
        for name, raw in cases.items():
            with self.subTest(name):
                before = self.write_raw(raw)
                with self.assertRaises(CorruptStateError) as cm:
                    tasks.load(self.path)
                msg = str(cm.exception)
                self.assertIn(str(self.path), msg)
                self.assertIn("is not valid task data", msg)
                self.assertNotIn("\n", msg)
                self.assertEqual(self.snapshot(), before)
                # A locked transaction refuses as well and writes nothing.
                with self.assertRaises(CorruptStateError), tasks.transaction(self.path) as tl:
                    tl.add("x")  # pragma: no cover - not reached
                self.assertEqual(self.snapshot(), before)
                self.assertEqual(self.names(), ["tasks.json", "tasks.json.lock"])

    def test_directory_at_path(self):
        self.path.mkdir()
        with self.assertRaisesRegex(StoreError, "is a directory"):
            tasks.load(self.path)
        with self.assertRaisesRegex(StoreError, "is a directory"), tasks.transaction(self.path):
            pass  # pragma: no cover - not reached
        self.assertEqual(self.names(), ["tasks.json"])

    @unittest.skipIf(os.geteuid() == 0, "root can read any file")
    def test_unreadable_file(self):
        before = self.write_raw(b"[]\n")
        os.chmod(self.path, 0)
        self.addCleanup(os.chmod, self.path, 0o600)
        with self.assertRaisesRegex(StoreError, "permission denied"):
            tasks.load(self.path)
        os.chmod(self.path, 0o600)
        self.assertEqual(self.snapshot(), before)

    def test_failed_write_removes_temp_and_keeps_old_file(self):
        tasks.save(self.path, make(("old", False)))
        before = self.snapshot()
        err = OSError(28, "No space left on device")
        with (
            mock.patch.object(tasks.os, "fsync", side_effect=err),
            self.assertRaisesRegex(StoreError, "cannot write: no space left"),
        ):
            tasks.save(self.path, make(("new", False)))
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.names(), ["tasks.json"])

    def test_interrupted_write_removes_temp(self):
        tasks.save(self.path, make(("old", False)))
        before = self.snapshot()
        with (
            mock.patch.object(tasks.os, "replace", side_effect=KeyboardInterrupt),
            self.assertRaises(KeyboardInterrupt),
        ):
            tasks.save(self.path, make(("new", False)))
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.names(), ["tasks.json"])

    def test_temp_file_names(self):
        self.assertTrue(tasks.is_temp_file_for(self.path, ".tasks.json.ab_3x9zq.tmp"))
        for name in [
            "tasks.json",
            "tasks.json.lock",
            ".tasks.json.tmp",
            ".tasks.json.abc.tmp",
            ".other.json.abcdefgh.tmp",
            "tasks.json.abcdefgh.tmp",
        ]:
            with self.subTest(name):
                self.assertFalse(tasks.is_temp_file_for(self.path, name))
        seen = []
        real_replace = os.replace

        def spy(src, dst):
            seen.append(os.path.basename(src))
            return real_replace(src, dst)

        with mock.patch.object(tasks.os, "replace", side_effect=spy):
            tasks.save(self.path, TaskList())
        self.assertEqual(len(seen), 1)
        self.assertTrue(tasks.is_temp_file_for(self.path, seen[0]), seen)


class TransactionTests(StoreTestCase):
    def test_creates_file_and_lock_file(self):
        with tasks.transaction(self.path) as tl:
            tl.add("a")
        self.assertEqual(tasks.load(self.path), make(("a", False)))
        self.assertEqual(self.names(), ["tasks.json", "tasks.json.lock"])

    def test_no_write_without_change(self):
        tasks.save(self.path, make(("a", True)))
        before = self.snapshot()
        with tasks.transaction(self.path) as tl:
            tl.complete(0)  # already done: nothing changes
        self.assertEqual(self.snapshot(), before)

    def test_no_write_on_exception(self):
        tasks.save(self.path, make(("a", False)))
        before = self.snapshot()
        with self.assertRaises(IndexError), tasks.transaction(self.path) as tl:
            tl.add("b")
            tl.complete(7)
        self.assertEqual(self.snapshot(), before)

    def test_missing_file_stays_missing_on_error(self):
        with self.assertRaises(IndexError), tasks.transaction(self.path) as tl:
            tl.remove(0)
        self.assertFalse(self.path.exists())

    def test_missing_folder(self):
        with (
            self.assertRaisesRegex(StoreError, "does not exist"),
            tasks.transaction(self.dir / "nope" / "t.json"),
        ):
            pass  # pragma: no cover - not reached

    def test_lock_is_exclusive_and_on_separate_file(self):
        lock = tasks.lock_path_for(self.path)
        self.assertEqual(lock, self.dir / "tasks.json.lock")
        with tasks.locked(self.path):
            fd = os.open(lock, os.O_RDWR)
            try:
                with self.assertRaises(BlockingIOError):
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
        fd = os.open(lock, os.O_RDWR)  # released afterwards
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        self.assertFalse(self.path.exists())

    def test_stale_temp_files_removed_by_next_write(self):
        tasks.save(self.path, make(("a", False)))
        stale = self.dir / ".tasks.json.k1ll3d_x.tmp"
        stale.write_bytes(b'[{"title": "half')
        unrelated = self.dir / ".tasks.json.notours"
        unrelated.write_bytes(b"keep")
        with tasks.transaction(self.path) as tl:
            self.assertEqual(tl, make(("a", False)))  # stale not read
            tl.add("b")
        self.assertFalse(stale.exists())
        self.assertTrue(unrelated.exists())
        self.assertEqual(tasks.load(self.path), make(("a", False), ("b", False)))

    def test_symlinked_state_file_keeps_link(self):
        real = self.dir / "real.json"
        tasks.save(real, make(("a", False)))
        os.symlink("real.json", self.path)
        with tasks.transaction(self.path) as tl:
            tl.add("b")
        self.assertTrue(self.path.is_symlink())
        self.assertEqual(tasks.load(real), make(("a", False), ("b", False)))

    def test_json_on_disk_is_valid(self):
        with tasks.transaction(self.path) as tl:
            tl.add("x")
            tl.add("y")
            tl.complete(1)
        self.assertEqual(
            json.loads(self.path.read_text("utf-8")),
            [{"title": "x", "done": False}, {"title": "y", "done": True}],
        )


if __name__ == "__main__":
    unittest.main()
