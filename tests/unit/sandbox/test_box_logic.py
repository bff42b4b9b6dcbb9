"""Small pieces of the box's logic that need no engine: argv, signals, strict policy."""

from __future__ import annotations

import os
import signal
from types import SimpleNamespace
from typing import Any

import pytest

from reprobox import errors
from reprobox.sandbox.box import Sandbox, argv
from reprobox.sandbox.engine_backend import oom_kills
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.signals import Terminated, held, shielded, sigterm_raises


def test_argv_splits_strings_like_a_shell_and_keeps_lists() -> None:
    assert argv("python3 -c 'print(1)'") == ["python3", "-c", "print(1)"]
    assert argv(["a b", ""]) == ["a b", ""]
    with pytest.raises(errors.UsageError):
        argv("")


def test_sigterm_raises_terminated_inside_the_block_only() -> None:
    with sigterm_raises(), pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_held_signals_wait_until_the_caller_reraises() -> None:
    with held() as holder:
        os.kill(os.getpid(), signal.SIGINT)
        reached = True
    assert reached
    with pytest.raises(KeyboardInterrupt):
        holder.reraise()
    with pytest.raises(Terminated), shielded():
        os.kill(os.getpid(), signal.SIGTERM)


def test_strict_policy_adds_gvisor_only_when_present() -> None:
    def engine(runtimes: bool) -> Any:
        return SimpleNamespace(info=lambda: SimpleNamespace(has_runsc=runtimes))

    assert Policy.strict(engine(True)).runtime == "runsc"
    assert Policy.strict(engine(False)).runtime is None
    assert Policy.strict(engine(False), pids_limit=10).pids_limit == 10


def test_files_need_a_session() -> None:
    box = Sandbox("img")
    with pytest.raises(errors.UsageError, match="session"):
        box.copy_in(".")


def test_oom_counter_parse() -> None:
    assert oom_kills(b"oom_kill_disable 0\nunder_oom 0\noom_kill 2\n") == 2
    assert oom_kills(b"") == 0
