"""Lint paths into a :class:`LintReport`: discover, parse once, run every rule once.

A rule that raises becomes an RBX1001 finding, never a traceback; unreadable files and a
missing hadolint are errors (exit 3), a path that does not exist is a usage error (exit 2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reprobox import errors
from reprobox.dockerfile import Dockerfile, parse
from reprobox.lint.buildcontext import EMPTY, BuildContext, clear_caches, load_context
from reprobox.lint.config import LintConfig
from reprobox.lint.pragmas import pragmas, suppressed
from reprobox.lint.report import LintReport
from reprobox.lint.rules import BY_ID, INTERNAL_ERROR, RULES
from reprobox.lint.rules.interface import Finding, Rule, RuleMeta, Severity

_HADOLINT_ID = re.compile(r"(?:DL|SC)[0-9]{4}")
Outcome = tuple[list[Finding], int]  # one file's kept findings, and how many pragmas silenced
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"})


def _known_rule(rule_id: str) -> bool:
    return rule_id.upper() in BY_ID or _HADOLINT_ID.fullmatch(rule_id.upper()) is not None


@dataclass(frozen=True)
class LintOptions:
    """What the caller asked for, on top of the configuration file."""

    recursive: bool = False
    ignore: frozenset[str] = frozenset()
    fail_on: Severity | None = None
    hadolint: bool = False
    config: LintConfig = field(default_factory=LintConfig)
    jobs: int = 1
    """Processes to lint in: 1 this one, 0 one per available CPU. Others are forked only for
    enough files to pay for them (:mod:`reprobox.lint.parallel`); the report is the same."""

    def __post_init__(self) -> None:
        if self.jobs < 0:
            raise errors.UsageError(
                f"--jobs {self.jobs}: must be 0 (one per CPU) or more", "e.g. --jobs 1"
            )
        unknown = sorted(i for i in self.ignore if not _known_rule(i))
        if unknown:
            raise errors.UsageError(
                f"--ignore {', '.join(unknown)}: no such rule",
                f"rule IDs are {', '.join(sorted(BY_ID))} (and hadolint's DLnnnn/SCnnnn); "
                "reprobox rules lists them",
            )

    @property
    def ignored(self) -> frozenset[str]:
        return frozenset(i.upper() for i in self.ignore) | self.config.ignore

    @property
    def threshold(self) -> Severity:
        return self.fail_on or self.config.fail_on


def is_dockerfile(name: str) -> bool:
    """Dockerfile, Containerfile, Dockerfile.<x> and <x>.Dockerfile (any case)."""
    lower = name.lower()
    if lower in ("dockerfile", "containerfile"):
        return True
    return lower.startswith(("dockerfile.", "containerfile.")) or lower.endswith(".dockerfile")


def discover(paths: Sequence[Path], recursive: bool) -> list[Path]:
    """The Dockerfiles named by ``paths`` (files, folders, or trees with ``recursive``)."""
    found: list[Path] = []
    for path in paths:
        try:
            kind = "missing" if not path.exists() else "file" if path.is_file() else "other"
        except OSError as exc:  # a name too long, a symlink loop, ...
            raise errors.UsageError(f"cannot use {path}: {exc.strerror or exc}") from exc
        if kind == "missing":
            raise errors.UsageError(f"{path} does not exist")
        if kind == "file":
            found.append(path)
            continue
        if not path.is_dir():
            raise errors.UsageError(f"{path} is neither a Dockerfile nor a folder")
        try:
            matches = sorted(_walk(path) if recursive else _listing(path))
        except OSError as exc:
            raise errors.LintError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if not matches:
            raise errors.UsageError(
                f"no Dockerfile in {path}", hint="name a file, or add --recursive"
            )
        found.extend(matches)
    return list(dict.fromkeys(found))


def _listing(folder: Path) -> Iterable[Path]:
    return (p for p in folder.iterdir() if p.is_file() and is_dockerfile(p.name))


def _walk(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        yield from (Path(root) / f for f in files if is_dockerfile(f))


def display(path: Path, cwd: Path | None = None) -> str:
    """A path as users wrote it, relative to the working directory when below it."""
    base = cwd or Path.cwd()
    absolute = path if path.is_absolute() else base / path
    try:
        return Path(os.path.normpath(absolute)).relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def lint_paths(paths: Sequence[Path], options: LintOptions) -> LintReport:
    """Lint every Dockerfile under ``paths``."""
    clear_caches()
    files = discover(paths, options.recursive)
    cwd = Path.cwd()
    names = {path: display(path, cwd) for path in files}
    outcomes = _lint_all([(path, names[path]) for path in files], options)
    findings = [finding for kept, _ in outcomes for finding in kept]
    silenced = sum(dropped for _, dropped in outcomes)
    if options.hadolint:
        from reprobox.lint import hadolint  # subprocess and JSON, only when asked for

        findings.extend(f for f in hadolint.run(files, names) if f.rule_id not in options.ignored)
    return _report(tuple(names.values()), findings, options, silenced)


def _lint_all(named: list[tuple[Path, str]], options: LintOptions) -> list[Outcome]:
    """Each file's outcome, in order: in this process, or split over several for many files
    (the same outcomes either way)."""
    lint_one = _Linter(options)
    if options.jobs != 1 and len(named) > 1:
        from reprobox.lint import parallel  # not for one file: it starts instantly

        processes = parallel.workers(options.jobs, len(named))
        if processes > 1:
            return parallel.map_split(lint_one, named, _folder, processes)
    return [lint_one(item) for item in named]


def _folder(item: tuple[Path, str]) -> Path:
    return item[0].parent


class _Linter:
    """Lints one (file, name to report it under); files of one folder share a build context."""

    def __init__(self, options: LintOptions) -> None:
        self.options = options
        self.contexts: dict[Path, BuildContext] = {}

    def __call__(self, item: tuple[Path, str]) -> Outcome:
        path, name = item
        return lint_dockerfile(_parse(path, name), _context(path, self.contexts), self.options)


def lint_text(
    text: str,
    path: str = "Dockerfile",
    context: BuildContext = EMPTY,
    options: LintOptions | None = None,
) -> LintReport:
    """Lint Dockerfile text (no file system needed unless ``context`` has a root)."""
    opts = options or LintOptions()
    kept, dropped = lint_dockerfile(parse(text, path), context, opts)
    return _report((path,), kept, opts, dropped)


def _context(path: Path, cache: dict[Path, BuildContext]) -> BuildContext:
    root = path.parent
    if root not in cache:
        cache[root] = load_context(root, path.name)
    return cache[root]


def _parse(path: Path, name: str) -> Dockerfile:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise errors.LintError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse(text, name)


def lint_dockerfile(dockerfile: Dockerfile, context: BuildContext, options: LintOptions) -> Outcome:
    """Run every rule once; returns the kept findings and how many pragmas silenced."""
    ignored = options.ignored
    active = pragmas(dockerfile)
    kept: list[Finding] = []
    dropped = 0
    for rule in RULES:
        if rule.meta.id in ignored:
            continue
        for finding in _run(rule, dockerfile, context):
            finding = _override(finding, options.config.severity)
            if finding.rule_id in ignored:
                continue
            if suppressed(finding, active):
                dropped += 1
            else:
                kept.append(finding)
    return kept, dropped


def _run(rule: Rule, dockerfile: Dockerfile, context: BuildContext) -> list[Finding]:
    try:
        return list(rule.check(dockerfile, context))
    except Exception as exc:
        internal = BY_ID[INTERNAL_ERROR]
        message = f"rule {rule.meta.id} failed: {type(exc).__name__}: {exc}"
        return [internal.finding(dockerfile, 1, message)]


def _override(finding: Finding, severities: dict[str, Severity]) -> Finding:
    severity = severities.get(finding.rule_id)
    return replace(finding, severity=severity) if severity else finding


def _report(
    files: tuple[str, ...], findings: list[Finding], options: LintOptions, silenced: int
) -> LintReport:
    ordered = sorted(findings, key=lambda f: (f.path, f.line, f.rule_id))
    return LintReport(
        files=files,
        findings=tuple(ordered),
        rules=_catalog(ordered),
        fail_on=options.threshold,
        suppressed=silenced,
    )


def _catalog(findings: list[Finding]) -> tuple[RuleMeta, ...]:
    metas = [rule.meta for rule in RULES]
    foreign = [f for f in findings if f.rule_id not in BY_ID]
    if not foreign:
        return tuple(metas)
    from reprobox.lint import hadolint

    extra = {f.rule_id: hadolint.meta_for(f) for f in foreign}
    return (*metas, *extra.values())
