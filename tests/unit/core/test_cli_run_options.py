"""``reprobox run`` hands its options to ``RunRequest`` typed, field by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reprobox.cli import common
from reprobox.cli.main import cli
from reprobox.sandbox import command
from reprobox.sandbox.command import RunRequest
from reprobox.sandbox.result import RunResult


def test_every_option_reaches_the_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[RunRequest] = []

    def fake(engine: Any, request: RunRequest, on_output: Any = None) -> RunResult:
        seen.append(request)
        return RunResult(0, b"", b"", 0.1)

    monkeypatch.setattr(command, "run_request", fake)
    monkeypatch.setattr(common, "engine_from", lambda ctx, lite=False: None)
    (tmp_path / "in.txt").write_text("x")
    args = [
        "run", "--image", "img:1", "--timeout", "5", "--memory", "1g", "--cpus", "0.5",
        "--pids", "64", "--network", "none", "--mount", f"{tmp_path}:rw", "--runtime", "runsc",
        "--label", "k=v", "--copy-in", str(tmp_path / "in.txt"), "--copy-out", str(tmp_path / "o"),
        "--", "true",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert seen == [
        RunRequest(
            image="img:1",
            command=("true",),
            timeout_s=5.0,
            memory="1g",
            cpus=0.5,
            pids=64,
            network="none",
            runtime="runsc",
            mounts=(f"{tmp_path}:rw",),
            copy_in=(tmp_path / "in.txt",),
            copy_out=tmp_path / "o",
            labels=("k=v",),
            backend="engine",
        )
    ]
