"""Issue 11's smaller defects, each pinned by a test that failed before its fix."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reprobox import errors
from reprobox.base import build as base_build
from reprobox.base.build import BaseSpec
from reprobox.build.inputs import resolve_inputs
from reprobox.cli.main import cli
from tests.conftest import ROOT, TASKS_APP


def test_one_finding_is_singular(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\n")
    result = CliRunner().invoke(cli, ["lint", str(tmp_path), "--ignore", "RBX3001"])
    assert "1 file, 1 finding (" in result.output, result.output


def test_an_unknown_rule_to_ignore_is_a_usage_error_listing_the_ids() -> None:
    result = CliRunner().invoke(cli, ["lint", str(TASKS_APP), "--ignore", "RBX99"])
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == "error: --ignore RBX99: no such rule"
    assert "RBX1102" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("rule", ["rbx1102", "DL3007", "SC2086"])
def test_known_rules_and_hadolint_ids_can_be_ignored(rule: str) -> None:
    result = CliRunner().invoke(cli, ["lint", str(TASKS_APP), "--ignore", rule])
    assert result.exit_code == 0, result.output


def test_lint_output_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            cli, ["lint", str(TASKS_APP), "--output", str(tmp_path / "r.txt")]
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "r.txt").stat().st_mode) == 0o644


def test_source_date_origin_has_no_nested_parentheses(tmp_path: Path) -> None:
    inputs = resolve_inputs(tmp_path)
    line = f"SOURCE_DATE_EPOCH={inputs.source_date_epoch} ({inputs.sde_origin})"
    assert line == "SOURCE_DATE_EPOCH=0 (default: no git history, no SOURCE_DATE_EPOCH)"


def test_base_failure_keeps_the_debootstrap_log_and_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "debootstrap"
    fake.write_text(
        '#!/bin/sh\nroot="$4"; mkdir -p "$root/debootstrap"\n'
        'echo "full detail" > "$root/debootstrap/debootstrap.log"\n'
        'echo "I: Retrieving InRelease"; echo "E: Failed getting release file"; exit 1\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(base_build, "LOG_DIR", str(tmp_path))
    root = tmp_path / "work" / "rootfs"
    with pytest.raises(errors.BaseImageError) as caught:
        base_build._debootstrap(str(fake), BaseSpec("bookworm"), root, lambda _: None)
    hint = caught.value.hint or ""
    log = Path(hint.rsplit("the full log is in ", 1)[1])
    assert log.parent == tmp_path
    assert "E: Failed getting release file" in log.read_text()
    assert "full detail" in log.read_text()


FAKE_DOCKER = """#!/bin/sh
# docker run ... tasks-app <cmd> [args]: a task list kept in $STATE; build is a no-op.
[ "$1" = build ] && exit 0
shift; while [ "$1" != tasks-app ]; do shift; done; shift
case "$1" in
  add) shift; echo "$*" >> "$STATE"; echo "added $*" ;;
  list) cat "$STATE" 2>/dev/null || echo "(no tasks yet)" ;;
  count) wc -l < "$STATE" ;;
esac
"""


def test_quickstart_adds_its_task_once(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "quickstart").write_text((ROOT / "scripts" / "quickstart").read_text())
    (tmp_path / "scripts" / "bootstrap").write_text("exit 0\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text("#!/bin/sh\necho base:tag\n")
    (venv / "reprobox").write_text("#!/bin/sh\nexit 0\n")
    for script in (bin_dir / "docker", venv / "python", venv / "reprobox"):
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(tmp_path / "s")}
    for _ in range(2):
        subprocess.run(
            ["bash", str(tmp_path / "scripts" / "quickstart")], env=env, check=True,
            capture_output=True,
        )  # fmt: skip
    assert (tmp_path / "s").read_text() == "try reprobox\n"
