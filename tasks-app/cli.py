"""Command-line interface of the tasks-app.  Run ``python cli.py --help``.

Exit status: 0 success, 1 the state file is corrupt/unreadable/unwritable,
2 usage error (unknown command, missing or bad argument, no such task,
empty title), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM),
141 stdout closed early (broken pipe).  Every error is one line on stderr
and leaves the state file unchanged.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import tasks

PROG = "cli.py"

USAGE = f"""\
usage: python {PROG} COMMAND [ARGS]

commands:
  add TITLE...   add a task (the words are joined with spaces)
  list           show all tasks with their numbers
  done N         mark task N as done
  undo N         mark task N as not done
  remove N       delete task N (later tasks move up by one)
  count          print the number of tasks not done yet
  clear-done     delete all done tasks and print how many were deleted
  help           show this help (also -h, --help)

Tasks are numbered from 0, as shown by 'list'.
State file: $TASKS_FILE if set and not empty, else tasks.json next to
{PROG}.  Exit status: 0 ok, 1 unreadable or corrupt state file, 2 usage
error (including a task number that does not exist).
"""

HELP_HINT = f"(see '{PROG} --help')"
COMMANDS = ("add", "list", "done", "undo", "remove", "count", "clear-done", "help")


class UsageError(Exception):
    """Bad command line: exit status 2."""


def state_path() -> Path:
    env = os.environ.get("TASKS_FILE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "tasks.json"


_NUMBER = re.compile(r"[+-]?[0-9]+")


def parse_index(command: str, args: list[str]) -> int:
    if not args:
        raise UsageError(f"{command}: missing task number {HELP_HINT}")
    if len(args) > 1:
        raise UsageError(
            f"{command}: expected one task number, got {len(args)} arguments {HELP_HINT}"
        )
    text = args[0]
    # Only plain ASCII digits: int() would also accept ' 1', '1_0' and
    # non-ASCII digits.
    if not _NUMBER.fullmatch(text):
        raise UsageError(f"{command}: task number must be a whole number, got {text!r}")
    try:
        return int(text)
    except ValueError:  # more digits than int() accepts (Python 3.11+)
        raise UsageError(f"{command}: task number {text[:20]}... is too large") from None


def no_args(command: str, args: list[str]) -> None:
    if args:
        raise UsageError(f"{command} takes no arguments, got {args[0]!r} {HELP_HINT}")


def run(argv: list[str]) -> int:
    if not argv:
        raise UsageError(f"missing command (one of: {', '.join(COMMANDS)}) {HELP_HINT}")
    command, args = argv[0], argv[1:]
    if command in ("-h", "--help", "help") or (args and args[0] in ("-h", "--help")):
        sys.stdout.write(USAGE)
        return 0
    path = state_path()

    if command == "add":
        if args[:1] == ["--"]:  # allows titles starting with '-'
            args = args[1:]
        if not args:
            raise UsageError(f"add: missing task title {HELP_HINT}")
        title = " ".join(args)
        try:
            tasks.validate_title(title)  # before touching any file
        except ValueError as exc:
            raise UsageError(f"add: {exc}") from None
        with tasks.transaction(path) as tl:
            tl.add(title)
            line = tl.render_line(len(tl) - 1)
        print(f"added {line}")
    elif command in ("done", "undo", "remove"):
        index = parse_index(command, args)
        with tasks.transaction(path) as tl:
            try:
                if command == "done":
                    tl.complete(index)
                    message = f"done {tl.render_line(index)}"
                elif command == "undo":
                    tl.undo(index)
                    message = f"undone {tl.render_line(index)}"
                else:
                    message = f"removed {tl.render_line(index)}"
                    tl.remove(index)
            except IndexError as exc:
                raise UsageError(f"{command}: {exc.args[0]}") from None
        print(message)
    elif command == "list":
        no_args(command, args)
        print(tasks.load(path).render())
    elif command == "count":
        no_args(command, args)
        print(tasks.load(path).pending_count())
    elif command == "clear-done":
        no_args(command, args)
        with tasks.transaction(path) as tl:
            removed = tl.clear_done()
        print(removed)
    else:
        raise UsageError(f"unknown command {command!r} {HELP_HINT}")
    return 0


def _error(message: str) -> None:
    # One line, whatever the message contains.
    message = " ".join(str(message).split("\n"))
    try:
        sys.stderr.write(f"{PROG}: error: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _on_sigterm(signum: int, frame: object) -> None:
    # `docker stop` sends SIGTERM; Python as PID 1 would ignore it.  Raising
    # here unwinds normally, so an unfinished write removes its temp file.
    raise SystemExit(128 + signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    for name in ("stdout", "stderr"):  # never crash on an unprintable title
        stream = getattr(sys, name)
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        status = run(argv)
        sys.stdout.flush()
        return status
    except UsageError as exc:
        _error(str(exc))
        return 2
    except tasks.StoreError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`).  Stay quiet, and stop Python
        # from complaining again when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 128 + signal.SIGPIPE
    except OSError as exc:  # e.g. stdout on a full disk
        _error(f"I/O error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
