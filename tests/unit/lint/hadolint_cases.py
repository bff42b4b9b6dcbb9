"""Dockerfiles generated to compare reprobox with hadolint on the rules both have.

Each family combines building blocks (images, pip requirements and options, apt and apk
commands, sudo) into small Dockerfiles; every case carries ``tags`` naming the blocks it uses,
so a documented difference can say exactly which cases it explains. The cases are written for
this project from the rules' public descriptions; none is taken from hadolint's test suite.

``python -m tests.unit.lint.hadolint_cases`` prints the agreement table quoted in docs/lint.md.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reprobox.lint import lint_text
from reprobox.lint.hadolint import binary

SHA = "a" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"
# reprobox rule -> the hadolint rules that mean the same.
SHARED = {
    "RBX1101": ("DL3006", "DL3007"),
    "RBX1103": ("DL3013",),
    "RBX4003": ("DL3042",),
    "RBX4002": ("DL3009", "DL3019"),
    "RBX4001": ("DL3015",),
    "RBX3004": ("DL3004",),
}


@dataclass(frozen=True)
class Case:
    """One generated Dockerfile, the shared rules it exercises, and its building blocks."""

    name: str
    text: str
    rules: tuple[str, ...]
    tags: frozenset[str]


def _case(name: str, text: str, rules: tuple[str, ...], *tags: str) -> Case:
    return Case(name, text, rules, frozenset(t for t in tags if t))


# --- FROM: RBX1101 <-> DL3006 / DL3007 ------------------------------------------------------

IMAGES: list[tuple[str, str, tuple[str, ...]]] = [
    # (ARG lines, FROM image, tags)
    ("", "python", ()),
    ("", "python:3.12-slim", ()),
    ("", "python:latest", ()),
    ("", f"python@sha256:{SHA}", ()),
    ("", f"python:3.12@sha256:{SHA}", ()),
    ("", f"python:latest@sha256:{SHA}", ("latest-with-digest",)),
    ("", "registry.example:5000/team/app", ()),
    ("", "registry.example:5000/team/app:1.4", ()),
    ("ARG IMAGE=python", "${IMAGE}", ("arg",)),
    ("ARG IMAGE=python:3.12", "${IMAGE}", ("arg", "arg-gives-tag")),
    ("ARG TAG=latest", "python:${TAG}", ("arg", "arg-gives-latest")),
    ("ARG TAG=3.12", "python:${TAG}", ("arg",)),
    ("ARG IMAGE", "${IMAGE}", ("arg", "arg-without-value")),
    ("", "scratch", ()),
]


def from_cases() -> Iterator[Case]:
    for index, (args, image, tags) in enumerate(IMAGES):
        for alias in ("", " AS final"):
            text = f"{args}\nFROM {image}{alias}\nRUN true\n" if args else f"FROM {image}{alias}\n"
            yield _case(f"from-{index}{alias and '-alias'}", text, ("RBX1101",), *tags)
    for spelling in ("Base", "base", "BASE"):
        text = f"FROM python:3.12 AS Base\nFROM {spelling}\nRUN true\n"
        tag = "" if spelling == "Base" else "stage-in-other-case"
        yield _case(f"from-stage-{spelling}", text, ("RBX1101",), "stage", tag)


# --- pip: RBX1103 <-> DL3013, RBX4003 <-> DL3042 --------------------------------------------

PIPS = [("pip", ""), ("pip3", ""), ("python -m pip", ""), ("uv pip", "uv")]
REQUIREMENTS: list[tuple[str, tuple[str, ...]]] = [
    ("flask", ()),
    ("flask==3.0.3", ()),
    ("'flask[async]==3.0.3'", ()),
    ("'flask>=3'", ("range",)),
    ("'flask~=3.0'", ("range",)),
    ("'flask==3.*'", ("wildcard",)),
    (".", ()),
    ("./wheels/app-1.0-py3-none-any.whl", ()),
    ("src/pkg", ()),
    ("git+https://example.org/r.git", ()),
    ("git+https://example.org/r.git@v1.2", ("vcs-tag",)),
    (f"git+https://example.org/r.git@{COMMIT}", ()),
    ("-r requirements.txt", ()),
    ("-r requirements.txt flask", ("requirements-and-names",)),
    ("-c constraints.txt flask", ("constraints",)),
    ("--root-user-action ignore flask==3.0.3", ("option-value",)),
    ("--exists-action w flask==3.0.3", ("option-value",)),
    ("--upgrade pip", ()),
]
CACHE: list[tuple[str, str, str, tuple[str, ...]]] = [
    # (lines before the RUN, RUN flags, extra pip option, tags)
    ("", "", "", ()),
    ("", "", "--no-cache-dir ", ()),
    ("ENV PIP_NO_CACHE_DIR=1\n", "", "", ()),
    ("ENV PIP_NO_CACHE_DIR=true\n", "", "", ()),
    ("ENV PIP_NO_CACHE_DIR=off\n", "", "", ("cache-env-falsy",)),
    ("ENV PIP_NO_CACHE_DIR=0\n", "", "", ("cache-env-falsy",)),
    ("", "--mount=type=cache,target=/root/.cache/pip ", "", ("cache-mount",)),
    ("", "--mount=type=tmpfs,target=/root/.cache/pip ", "", ("cache-mount",)),
]


def pip_cases() -> Iterator[Case]:
    for (pip, tool), (requirement, tags) in itertools.product(PIPS, REQUIREMENTS):
        for before, flags, option, cache_tags in CACHE[:2]:
            text = f"FROM python:3.12\n{before}RUN {flags}{pip} install {option}{requirement}\n"
            name = f"pip-{pip}-{requirement}-{option}".replace(" ", "_")
            yield _case(name, text, ("RBX1103", "RBX4003"), tool, *tags, *cache_tags)
    for (pip, _), requirement in itertools.product(PIPS[:3], ("flask==3.0.3", "-r req.txt")):
        for before, flags, option, cache_tags in CACHE[2:]:
            text = f"FROM python:3.12\n{before}RUN {flags}{pip} install {option}{requirement}\n"
            name = f"pip-cache-{pip}-{requirement}-{before}{flags}".replace(" ", "_")
            yield _case(name, text, ("RBX4003",), *cache_tags)
    for prefix, tags in (
        ("PIP_NO_CACHE_DIR=1 ", ()),
        ("PIP_NO_CACHE_DIR=0 ", ("cache-env-falsy",)),
    ):
        text = f"FROM python:3.12\nRUN {prefix}pip install flask==3.0.3\n"
        yield _case(f"pip-inline-{prefix}", text, ("RBX1103", "RBX4003"), *tags)
    parent = "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\n"
    yield _case("pip-parent-env", parent + "RUN pip install x==1\n", ("RBX1103", "RBX4003"))
    for requirement in ("flask", "flask==3.0.3"):
        text = f"FROM python:3.12\nONBUILD RUN pip install {requirement}\n"
        yield _case(f"pip-onbuild-{requirement}", text, ("RBX1103", "RBX4003"), "onbuild")


# --- apt and apk: RBX4002 <-> DL3009 / DL3019, RBX4001 <-> DL3015 ----------------------------

APT_RUNS: list[tuple[str, tuple[str, ...]]] = [
    ("apt-get update && apt-get install -y curl", ()),
    ("apt-get update && apt-get install -y --no-install-recommends curl", ()),
    ("apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*", ()),
    ("apt-get update && apt-get install -y --no-install-recommends curl"
     " && rm -rf /var/lib/apt/lists/*", ()),
    ("apt-get update && apt-get -o APT::Install-Recommends=false install -y curl"
     " && rm -rf /var/lib/apt/lists/*", ()),
    ("apt-get update && apt-get install -y --no-install-recommends curl"
     " && rm -fr /var/lib/apt/lists", ("other-cleanup",)),
    ("apt-get update && apt-get install -y --no-install-recommends curl && apt-get dist-clean",
     ("other-cleanup",)),
    ("apt-get install -y --no-install-recommends curl", ("install-without-update",)),
    ("apt-get update", ("update-alone",)),
    ("apt update && apt install -y curl && rm -rf /var/lib/apt/lists/*", ("apt-not-apt-get",)),
    ("--mount=type=cache,target=/var/lib/apt/lists apt-get update"
     " && apt-get install -y --no-install-recommends curl", ()),
    ("--mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt"
     " apt-get update && apt-get install -y --no-install-recommends curl", ()),
    ("--mount=type=cache,target=/var/lib/apt apt-get update"
     " && apt-get install -y --no-install-recommends curl", ("lists-under-mount",)),
    ("--mount=type=cache,target=/var/cache/apt apt-get update"
     " && apt-get install -y --no-install-recommends curl", ()),
    ("--mount=type=tmpfs,target=/var/lib/apt/lists apt-get update"
     " && apt-get install -y --no-install-recommends curl", ("lists-under-mount",)),
]  # fmt: skip
APK_RUNS: list[tuple[str, tuple[str, ...]]] = [
    ("apk add curl", ()),
    ("apk add --no-cache curl", ()),
    ("apk --no-cache add curl", ()),
    ("apk add --update curl && rm -rf /var/cache/apk/*", ("apk-cleanup",)),
    ("--mount=type=cache,target=/var/cache/apk apk add curl", ("apk-cleanup",)),
]
STAGES: list[tuple[str, str, tuple[str, ...]]] = [
    # (FROM line(s) before the RUN, what follows, tags)
    ("FROM debian:12\n", "", ()),
    ("FROM debian:12 AS build\n", "FROM debian:12\nCOPY --from=build /x /x\n", ("builder-stage",)),
    ("FROM debian:12\n", "", ("onbuild",)),
]


def package_cases() -> Iterator[Case]:
    for (run, tags), (first, rest, stage_tags) in itertools.product(APT_RUNS, STAGES):
        prefix = "ONBUILD RUN " if "onbuild" in stage_tags else "RUN "
        text = f"{first}{prefix}{run}\n{rest}"
        yield _case(f"apt-{run}-{stage_tags}", text, ("RBX4002", "RBX4001"), *tags, *stage_tags)
    for run, tags in APK_RUNS:
        yield _case(f"apk-{run}", f"FROM alpine:3.20\nRUN {run}\n", ("RBX4002",), *tags)


# --- sudo: RBX3004 <-> DL3004 ---------------------------------------------------------------

SUDO_RUNS: list[tuple[str, tuple[str, ...]]] = [
    ("RUN sudo apt-get install -y --no-install-recommends curl", ()),
    ("RUN cd /src && sudo make install", ()),
    ("RUN DEBIAN_FRONTEND=noninteractive sudo make install", ()),
    ("RUN /usr/bin/sudo make install", ("sudo-by-path",)),
    ("RUN sudo -u app make", ()),
    ("RUN echo sudo", ()),
    ("RUN apt-get install -y --no-install-recommends sudo", ()),
    ("RUN make install", ()),
    ("ONBUILD RUN sudo make install", ("onbuild",)),
    ('RUN ["sudo", "make", "install"]', ()),
]


def sudo_cases() -> Iterator[Case]:
    for index, (run, tags) in enumerate(SUDO_RUNS):
        yield _case(f"sudo-{index}", f"FROM debian:12\nUSER app\n{run}\n", ("RBX3004",), *tags)


def cases() -> list[Case]:
    return [*from_cases(), *pip_cases(), *package_cases(), *sudo_cases()]


# --- Running both tools ---------------------------------------------------------------------


def ours(case: Case) -> set[str]:
    """The shared reprobox rules that fire on ``case``."""
    return {f.rule_id for f in lint_text(case.text).findings if f.rule_id in SHARED}


def theirs(all_cases: list[Case]) -> dict[str, set[str]]:
    """The reprobox IDs whose hadolint counterparts fire, per case (one hadolint process)."""
    reverse = {dl: rbx for rbx, dls in SHARED.items() for dl in dls}
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for index, case in enumerate(all_cases):
            path = Path(folder) / f"{index}.Dockerfile"
            path.write_text(case.text)
            paths[str(path)] = case.name
        argv = [binary(), "--no-fail", "--format", "json", *paths]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    fired: dict[str, set[str]] = {case.name: set() for case in all_cases}
    for item in json.loads(done.stdout or "[]"):
        rule = reverse.get(item["code"])
        if rule is not None:
            fired[paths[item["file"]]].add(rule)
    return fired


@dataclass(frozen=True)
class Difference:
    """A documented reason why the two tools disagree on a rule for some cases."""

    rule: str
    reprobox: bool  # whether reprobox fires in the cases this explains
    reason: str
    applies: Callable[[Case], bool]


@dataclass(frozen=True)
class Outcome:
    case: Case
    rule: str
    reprobox: bool
    hadolint: bool

    @property
    def agrees(self) -> bool:
        return self.reprobox == self.hadolint


def compare(all_cases: list[Case]) -> list[Outcome]:
    """One outcome per case and shared rule the case exercises."""
    hadolint = theirs(all_cases)
    outcomes = []
    for case in all_cases:
        mine = ours(case)
        for rule in case.rules:
            outcomes.append(Outcome(case, rule, rule in mine, rule in hadolint[case.name]))
    return outcomes


def explain(outcome: Outcome, known: list[Difference]) -> Difference | None:
    for difference in known:
        if (
            difference.rule == outcome.rule
            and difference.reprobox == outcome.reprobox
            and difference.applies(outcome.case)
        ):
            return difference
    return None


def table(outcomes: list[Outcome], known: list[Difference]) -> str:
    """The agreement per rule, and each documented difference with how many cases it covers."""
    lines = ["| reprobox | hadolint | cases | agree | agreement |", "|---|---|---|---|---|"]
    for rule, dls in SHARED.items():
        mine = [o for o in outcomes if o.rule == rule]
        agree = sum(o.agrees for o in mine)
        share = agree / len(mine) if mine else 1.0
        lines.append(f"| {rule} | {'/'.join(dls)} | {len(mine)} | {agree} | {share:.0%} |")
    agree = sum(o.agrees for o in outcomes)
    lines.append(f"| all | | {len(outcomes)} | {agree} | {agree / len(outcomes):.1%} |")
    lines += ["", "| rule | reprobox | cases | why |", "|---|---|---|---|"]
    for difference in known:
        count = sum(explain(o, [difference]) is not None for o in outcomes if not o.agrees)
        verdict = "fires" if difference.reprobox else "silent"
        lines.append(f"| {difference.rule} | {verdict} | {count} | {difference.reason} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from tests.unit.lint.test_hadolint_agreement import KNOWN

    results = compare(cases())
    print(table(results, KNOWN))
    for o in results:
        if not o.agrees and explain(o, KNOWN) is None:
            print("UNEXPLAINED", o.rule, o.reprobox, o.hadolint, repr(o.case.text))
