"""The documented exit codes of the ``reprobox`` command, in one place.

"Could not run" never shares a code with "found problems". ``reprobox run`` passes the
command's own exit code through and reserves 124 (timeout), 125 (reprobox itself failed) and
137 (killed for exceeding its memory limit), the numbers ``timeout(1)`` and ``docker run``
use, so scripts that know those tools read ours the same way.
"""

from __future__ import annotations

import signal
from enum import IntEnum
from typing import Final

from reprobox import errors

# The status a process killed by SIGKILL reports (128 + 9), as shells and engines report it.
SIGKILLED: Final = 128 + int(signal.SIGKILL)
# The status of a program killed by SIGPIPE (128 + 13), as shells report `yes | head -1`'s.
SIGPIPED: Final = 128 + int(signal.SIGPIPE)


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    COULD_NOT_RUN = 3
    RUN_TIMEOUT = 124
    RUN_INTERNAL = 125
    INTERRUPTED = 130
    RUN_OOM = SIGKILLED  # the status the kernel's OOM kill leaves
    READER_GONE = SIGPIPED


MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "success: clean lint, identical verify, passing tests, healthy engine",
    ExitCode.FINDINGS: "the check ran and found problems (lint findings at or above --fail-on, "
    "verify found differences, tests failed, pin --check found an unpinned image, a pinned "
    "digest is no longer served)",
    ExitCode.USAGE: "the command line was wrong (unknown option, bad value, missing path)",
    ExitCode.COULD_NOT_RUN: "reprobox could not do its job (engine down, image missing, "
    "build failed, I/O error, a registry unreachable, an unknown tag, auth required, a program "
    "it needs not installed)",
    ExitCode.RUN_TIMEOUT: "reprobox run: the command exceeded its timeout and was killed",
    ExitCode.RUN_INTERNAL: "reprobox run: the sandbox itself failed (engine error, no image)",
    ExitCode.INTERRUPTED: "interrupted by Ctrl-C or SIGTERM; what reprobox created was removed",
    ExitCode.RUN_OOM: "reprobox run: the command was killed for exceeding its memory limit",
    ExitCode.READER_GONE: "the program reading reprobox's output closed it early "
    "(reprobox rules | head -1): reprobox stopped without a message, as a tool killed by "
    "SIGPIPE does",
}


def for_error(error: BaseException) -> ExitCode:
    """The exit code for an error that stopped a command (never a run command's own code)."""
    if isinstance(error, errors.UsageError):
        return ExitCode.USAGE
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.COULD_NOT_RUN


def for_run_error(error: BaseException) -> ExitCode:
    """``reprobox run``'s code when reprobox itself failed: never a code a run result uses
    for timeout or out-of-memory."""
    if isinstance(error, errors.UsageError):
        return ExitCode.USAGE
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return ExitCode.INTERRUPTED
    return ExitCode.RUN_INTERNAL


def for_run(exit_code: int, timed_out: bool, oom_killed: bool) -> int:
    """``reprobox run``'s exit code for a finished command: its own, or 124 on timeout, or
    137 when it was killed for exceeding its memory limit."""
    if timed_out:
        return int(ExitCode.RUN_TIMEOUT)
    if oom_killed:
        return int(ExitCode.RUN_OOM)
    return exit_code


def for_pin(could_not_ask: bool, findings: bool) -> ExitCode:
    """``reprobox pin``: 3 when a registry could not answer, else 1 when something is (or, with
    ``--check``, would be) unpinned or a pin is stale, else 0."""
    if could_not_ask:
        return ExitCode.COULD_NOT_RUN
    return ExitCode.FINDINGS if findings else ExitCode.OK
