"""``reprobox lint`` and ``reprobox rules`` driven as users drive them (no engine needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reprobox.cli.main import cli
from tests.conftest import SHARED, reprobox_cli
from tests.unit.lint.helpers import lint_cli

CORPUS = SHARED / "corpus" / "dockerfiles"
BAD = "FROM python:3.12\nRUN pip install flask\n"
CLEAN = "FROM scratch\nUSER 1\n"


def write(tmp_path: Path, text: str, name: str = "Dockerfile") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_subprocess_findings_exit_1(tmp_path: Path) -> None:
    done = reprobox_cli("lint", str(write(tmp_path, BAD)), timeout=120)
    assert done.returncode == 1
    assert "RBX1103" in done.stdout and "fix:" in done.stdout
    assert "Traceback" not in done.stderr


def test_clean_exit_0(tmp_path: Path) -> None:
    code, out, _ = run("lint", str(write(tmp_path, CLEAN)))
    assert code == 0 and "no findings" in out


def test_fail_on_error_lets_warnings_pass(tmp_path: Path) -> None:
    code, _, _ = run("lint", "--fail-on", "error", str(write(tmp_path, BAD)))
    assert code == 0


def test_ignore_option(tmp_path: Path) -> None:
    path = write(tmp_path, "FROM python:3.12@sha256:" + "a" * 64 + "\nUSER 1\n")
    assert run("lint", str(path))[0] == 0
    path = write(tmp_path, "FROM python:3.12\nUSER 1\n")
    assert run("lint", "--ignore", "RBX1102", str(path))[0] == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = run("lint", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in err
    assert run("lint", "--format", "xml", str(tmp_path))[0] == 2
    assert run("rules", "RBX9999")[0] == 2


def test_could_not_run_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name, path=None: None)
    code, _, err = run("lint", "--hadolint", str(write(tmp_path, CLEAN)))
    assert code == 3 and "reprobox[hadolint]" in err


def test_json_to_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    code, stdout, _ = run("lint", "--format", "json", "-o", str(out), str(write(tmp_path, BAD)))
    assert code == 1 and stdout == ""
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 1 and doc["summary"]["warning"] >= 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_output_not_created_on_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    run("lint", "--format", "sarif", "-o", str(out), str(tmp_path / "missing"))
    assert not out.exists()


def test_sarif_output_validates(tmp_path: Path) -> None:
    schema = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if not schema.exists():
        pytest.skip("shared SARIF schema not available")
    jsonschema = pytest.importorskip("jsonschema")
    code, out, _ = run("lint", "--format", "sarif", str(write(tmp_path, BAD)))
    assert code == 1
    jsonschema.validate(json.loads(out), json.loads(schema.read_text()))


def test_recursive_and_config(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    write(tmp_path / "svc", BAD)
    (tmp_path / "pyproject.toml").write_text('[tool.reprobox.lint]\nfail-on = "error"\n')
    code, out, _ = run("lint", "--recursive", str(tmp_path))
    assert code == 0 and "RBX1103" in out
    assert run("lint", str(tmp_path))[0] == 2  # no Dockerfile directly in the folder


def test_bad_config_is_usage(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.reprobox.lint]\nwhat = 1\n")
    assert run("lint", str(write(tmp_path, CLEAN)))[0] == 2


def test_rules_catalog_and_page() -> None:
    code, out, _ = run("rules")
    assert code == 0 and "RBX1101" in out and "RBX4004" in out
    code, out, _ = run("rules", "rbx1102")
    assert code == 0 and out.startswith("# RBX1102:") and "## Bad" in out


def test_parse_error_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    done = reprobox_cli("lint", str(write(tmp_path, "FROM x\nRUN <<EOF\n")), timeout=120)
    assert done.returncode == 1 and "RBX1000" in done.stdout and "Traceback" not in done.stderr


def test_whole_large_context_is_walked(tmp_path: Path) -> None:
    """60,000 files: the .env in the first folder is found, as in the last (walk order)."""
    for d in range(60):
        folder = tmp_path / "data" / f"d{d}"
        folder.mkdir(parents=True)
        for i in range(1000):
            (folder / f"f{i}").touch()
    (tmp_path / "data" / "d0" / ".env").touch()
    (tmp_path / "data" / "d59" / ".env").touch()
    done = reprobox_cli("lint", str(write(tmp_path, CLEAN)), timeout=300)
    assert done.returncode == 1
    assert "data/d0/.env" in done.stdout and "data/d59/.env" in done.stdout


def test_context_past_the_bound_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reprobox.lint import buildcontext

    monkeypatch.setattr(buildcontext, "WALK_LIMIT", 10)
    for i in range(12):
        (tmp_path / f"f{i}").touch()
    code, out, err = run("lint", str(write(tmp_path, CLEAN)))
    assert code == 3 and out == ""
    assert err.startswith("error: build context") and "more than 10 entries" in err
    assert "Traceback" not in err


def test_lint_imports_nothing_heavy_it_does_not_need(tmp_path: Path) -> None:
    """No docker SDK (requests, urllib3), no rich, no logging, nothing for several processes;
    pathspec only when a file may be git-ignored; tomllib only for a pyproject.toml that
    configures reprobox."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("*.log\nbuild/\n")
    (tmp_path / ".dockerignore").write_text(".git\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "app.py").write_text("")
    dockerfile = write(tmp_path, CLEAN)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reprobox", "lint", str(dockerfile)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "reprobox.lint" in imported  # the control: the listing is real
    heavy = {"docker", "requests", "urllib3", "rich", "logging", "pathspec", "tomllib", "json"}
    heavy |= {"reprobox.lint.parallel", "pickle", "multiprocessing", "concurrent"}  # 1 file
    assert imported & heavy == set()
    (tmp_path / "debug.log").write_text("")  # now a file git ignores reaches the context
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reprobox", "lint", str(dockerfile)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "RBX2005" in done.stdout and "pathspec" in done.stderr


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not available")
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_corpus_in_processes_is_byte_identical(tmp_path: Path, fmt: str) -> None:
    """The 268 shared Dockerfiles linted in one process and in two: the same bytes."""
    one, forks_one = lint_cli(tmp_path, "-r", "--format", fmt, "--jobs", "1", str(CORPUS))
    many, forks_many = lint_cli(tmp_path, "-r", "--format", fmt, "--jobs", "2", str(CORPUS))
    assert (forks_one, forks_many) == (0, 1)  # the control: the second run used two processes
    assert one.returncode == many.returncode == 1, one.stderr
    assert one.stdout == many.stdout and one.stderr == many.stderr == b""
    assert one.stdout.count(str(CORPUS).encode()) > 500  # the whole corpus was reported
