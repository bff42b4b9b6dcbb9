"""Every ``console`` and ``python`` block of README.md and docs/**/*.md runs, as written.

Convention (also in docs/README.md, for people writing docs):

* ``console`` blocks: a line starting with ``$ `` is a command (a line ending in ``\\`` and a
  heredoc's lines belong to it); the lines up to the next ``$ `` are what it prints, stdout
  and stderr together. The block runs in bash, one block one shell, in the document's
  throwaway folder.
* Exit codes: every command must exit 0, unless the next command is ``$ echo $?``, whose
  output then shows the code (or the command itself ends in ``; echo $?``).
* Placeholders: ``...`` inside a line matches any text on that line; a line that is only
  ``...`` matches any number of lines (none included). Nothing else varies.
* ``python`` blocks run in process, in the same folder, one namespace per document; a block
  passes when it raises nothing (write ``assert`` for what a reader should see).
* Cannot run here: a block whose first line carries the comment
  ``# not run by the docs tests: REASON`` is reported as skipped with REASON (visible in
  the rendered docs and in pytest's summary), never silently.
* Names: images named by ``-t``/``--tag`` (e.g. ``tasks-app``) and volumes named by
  ``-v NAME:/path`` (e.g. ``tasks-data``) get unique names, so the tests never touch a
  user's own; output shows the documented names again. ``tasks-app`` is built once per test
  session (offline base) under its unique name, for blocks that only run it.
* The throwaway folder of each document is a git repository (like a fresh clone) holding a
  copy of ``tasks-app/``, a ``data/`` folder (``data/input.txt``), ``src/main.py`` (prints
  ``42``, writes ``out/answer.txt``) and ``src/long.py`` (prints three lines): what the
  examples work on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sybil import Document, Example, Sybil
from sybil.parsers.markdown import CodeBlockParser

from tests.conftest import BASE_TAG, ROOT, TASKS_APP, TEST_SESSION, docker_cli
from tests.docs import console

pytestmark = pytest.mark.e2e

BLOCK_TIMEOUT_S = 900.0
CONTEXT_KEY = "__reprobox_docs__"
MAIN_PY = """\
from pathlib import Path

Path("out").mkdir(exist_ok=True)
Path("out/answer.txt").write_text("42\\n")
print(42)
"""
GIT_DATE = "2026-01-01T00:00:00+00:00"
LONG_PY = """\
for i in range(3):
    print("line", i, flush=True)
"""


@dataclass(frozen=True)
class DocsContext:
    folder: Path
    renamer: console.Renamer
    env: dict[str, str]


def _context(example: Example) -> DocsContext:
    context = example.namespace[CONTEXT_KEY]
    assert isinstance(context, DocsContext)
    return context


def _skip_reason(source: str) -> str | None:
    first = source.split("\n", 1)[0]
    mark = console.SKIP_MARK.search(first)
    return mark.group("reason") if mark else None


def _skip(example: Example, reason: str) -> NoReturn:
    where = f"{Path(example.path).relative_to(ROOT)}:{example.line}"
    pytest.skip(f"{where}: cannot run here: {reason}")


def evaluate_console(example: Example) -> str | None:
    context = _context(example)
    block = console.parse(example.parsed)
    if block.skip_reason:
        _skip(example, block.skip_reason)
    renamed = console.ConsoleBlock(
        tuple(
            console.Command(context.renamer.command(c.source), c.expected, c.line)
            for c in block.commands
        )
    )
    try:
        outcomes = console.run_block(renamed, context.folder, context.env, BLOCK_TIMEOUT_S)
    finally:
        _remember_images(context.renamer)
    restored = [console.Outcome(context.renamer.restore(o.output), o.exit_code) for o in outcomes]
    return console.check(block, restored)


def evaluate_python(example: Example) -> str | None:
    source = str(example.parsed)
    reason = _skip_reason(source)
    if reason:
        _skip(example, reason)
    context = _context(example)
    code = "\n" * (example.line) + context.renamer.python(source)
    exec(compile(code, example.path, "exec"), example.namespace)
    return None


PARSERS = [
    CodeBlockParser("console", evaluate_console),
    CodeBlockParser("python", evaluate_python),
]


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _examples() -> list[Any]:
    sybil = Sybil(parsers=PARSERS)
    params = []
    for path in _documents():
        document = sybil.parse(path)
        for example in document.examples():
            name = f"{path.relative_to(ROOT)}:{example.line}"
            params.append(pytest.param(document, example, id=name))
    return params


# Every image ID a unique docs tag has pointed to. A later block can move the tag to a new
# image (README: `reprobox build --tag tasks-app`, then `docker build -t tasks-app`), leaving
# the earlier image untagged; removing only the tags at the end would leave it behind.
_IMAGE_IDS: set[str] = set()


def _remember_images(renamer: console.Renamer) -> None:
    for image in renamer.images.values():
        found = docker_cli("image", "inspect", "--format", "{{.Id}}", image, check=False)
        if found.returncode == 0:
            _IMAGE_IDS.add(found.stdout.strip())


def _remove_untagged(ids: set[str]) -> None:
    """Remove the docs' images that no tag names any more (never one a user has tagged)."""
    for image_id in ids:
        tags = docker_cli(
            "image", "inspect", "--format", "{{len .RepoTags}}", image_id, check=False
        )
        if tags.returncode == 0 and tags.stdout.strip() == "0":
            docker_cli("rmi", image_id, check=False)


@pytest.fixture(scope="session")
def docs_renamer() -> console.Renamer:
    return console.Renamer(suffix=TEST_SESSION)


@pytest.fixture(scope="session")
def docs_images(base_image: str, docs_renamer: console.Renamer) -> Iterator[None]:
    """``tasks-app`` built once per session on the offline base, under its unique name."""
    tag = docs_renamer.image("tasks-app")
    docker_cli("build", "-q", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag, str(TASKS_APP))
    try:
        yield
    finally:
        _remember_images(docs_renamer)
        for image in docs_renamer.images.values():
            docker_cli("rmi", "-f", image, check=False)
        _remove_untagged(_IMAGE_IDS)
        for volume in docs_renamer.volumes.values():
            docker_cli("volume", "rm", "-f", volume, check=False)


def _seed(folder: Path) -> None:
    shutil.copytree(TASKS_APP, folder / "tasks-app", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "data").mkdir()
    (folder / "data" / "input.txt").write_text("hello\n")
    (folder / "src").mkdir()
    (folder / "src" / "main.py").write_text(MAIN_PY)
    (folder / "src" / "long.py").write_text(LONG_PY)
    _commit(folder)


def _commit(folder: Path) -> None:
    """A git repository, as a fresh clone is (builds read their source date from it)."""
    env = {**os.environ, "GIT_AUTHOR_DATE": GIT_DATE, "GIT_COMMITTER_DATE": GIT_DATE}
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=docs", "-c", "user.email=docs@localhost", "commit", "-qm", "docs"],
    ):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPROBOX_")}
    for name in ("COLUMNS", "LINES", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture
def docs_context(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    docs_renamer: console.Renamer,
    docs_images: None,
    monkeypatch: pytest.MonkeyPatch,
) -> DocsContext:
    document: Document = request.node.callspec.params["document"]
    context = document.namespace.get(CONTEXT_KEY)
    if context is None:
        folder = tmp_path_factory.mktemp("docs")
        _seed(folder)
        context = DocsContext(folder, docs_renamer, _env())
        document.namespace[CONTEXT_KEY] = context
    assert isinstance(context, DocsContext)
    monkeypatch.chdir(context.folder)
    return context


@pytest.mark.parametrize(("document", "example"), _examples())
def test_docs_example(document: Document, example: Example, docs_context: DocsContext) -> None:
    assert BASE_TAG
    result = example.region.evaluator(example)
    if result:
        pytest.fail(textwrap.indent(str(result), "  "), pytrace=False)
