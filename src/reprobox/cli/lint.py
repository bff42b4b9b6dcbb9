"""``reprobox lint`` and ``reprobox rules``: parse options, call the library, write output."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reprobox import errors
from reprobox.cli.common import guarded
from reprobox.exitcodes import ExitCode
from reprobox.lint import (
    LintOptions,
    OutputFormat,
    Severity,
    find_pyproject,
    lint_paths,
    load_config,
    render,
)
from reprobox.lint.rules import RULES, meta

_LEVELS = [s.value for s in Severity]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-r", "--recursive", is_flag=True, help="Find Dockerfiles in whole trees.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in OutputFormat]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--fail-on",
    type=click.Choice(_LEVELS),
    default=None,
    help="Exit 1 when a finding is at or above this severity [default: warning, or "
    "fail-on in [tool.reprobox.lint]].",
)
@click.option("--ignore", multiple=True, metavar="ID", help="Skip a rule (repeatable).")
@click.option("--hadolint", "with_hadolint", is_flag=True, help="Also run hadolint and merge.")
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="pyproject.toml to read [tool.reprobox.lint] from [default: nearest one].",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Lint in this many processes (0: one per available CPU; 1: this one alone). Only "
    "for many files: a few are linted in this process. The output is the same.",
)
@click.pass_context
@guarded
def lint(
    ctx: click.Context,
    paths: tuple[Path, ...],
    recursive: bool,
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    ignore: tuple[str, ...],
    with_hadolint: bool,
    config: Path | None,
    jobs: int,
) -> None:
    """Find what makes an image unreproducible, bloated or leaky, before it is built.

    PATHS are Dockerfiles or folders holding one (default: the current folder).
    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, 3 could not run.
    """
    targets = list(paths) or [Path(".")]
    options = LintOptions(
        recursive=recursive,
        ignore=frozenset(i.upper() for i in ignore),
        fail_on=Severity(fail_on) if fail_on else None,
        hadolint=with_hadolint,
        config=load_config(config or find_pyproject(targets[0])),
        jobs=jobs,
    )
    report = lint_paths(targets, options)
    text = render(report, OutputFormat(fmt))
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
    ctx.exit(int(ExitCode.FINDINGS if report.failed else ExitCode.OK))


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half-written)."""
    import tempfile

    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise errors.LintError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise errors.LintError(f"cannot write {path}: {exc.strerror or exc}") from exc


@click.command()
@click.argument("rule_id", required=False)
@guarded
def rules(rule_id: str | None) -> None:
    """List the lint rules, or show one rule's page (reprobox rules RBX1102)."""
    if rule_id is None:
        for rule in RULES:
            m = rule.meta
            click.echo(f"{m.id}  {m.severity.value:<7}  {m.category.value:<15}  {m.title}")
        return
    from reprobox.lint.docs import render_page

    found = meta(rule_id)
    if found is None:
        raise errors.UsageError(f"no rule {rule_id}", hint="reprobox rules lists them all")
    click.echo(render_page(found), nl=False)
