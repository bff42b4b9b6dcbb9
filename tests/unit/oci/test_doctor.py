"""The oci backend's doctor checks, judged from given facts (no machine needed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from reprobox.doctor import Status
from reprobox.oci.doctor import OciFacts, checks, summary

GOOD = OciFacts(
    root=True,
    runtimes={"runc": "runc version 1.1.5", "runsc": "runsc version 0.0"},
    hybrid_cgroups=True,
    cgroups_writable=True,
    missing_tools=(),
    seccomp_profile="/usr/share/containers/seccomp.json",
    cache=Path("/var/cache/reprobox/oci"),
    cache_writable=True,
    cache_entries=2,
)


def statuses(facts: OciFacts) -> dict[str, Status]:
    return {c.name: c.status for c in checks(facts)}


def test_a_good_machine_can_run_the_backend() -> None:
    assert set(statuses(GOOD).values()) == {Status.OK}
    assert summary(GOOD).status is Status.OK


def test_each_missing_piece_says_why_the_backend_cannot_run() -> None:
    for change, name, words in (
        ({"runtimes": {}}, "runc", "runc is not installed"),
        ({"root": False}, "cgroups", "not root"),
        ({"cgroups_writable": False}, "cgroups", "not writable"),
        ({"missing_tools": ("umoci",)}, "tools", "missing umoci"),
        ({"seccomp_profile": None}, "seccomp", "no seccomp profile"),
        ({"cache_writable": False}, "cache", "not writable"),
    ):
        facts = dataclasses.replace(GOOD, **change)  # type: ignore[arg-type]
        found = {c.name: c for c in checks(facts)}[name]
        assert found.status is Status.FAIL and words in found.detail and found.hint
        line = summary(facts)
        assert line.status is Status.WARN and words in line.detail


def test_crun_on_hybrid_cgroups_and_missing_runsc_are_warnings() -> None:
    crun = dataclasses.replace(GOOD, runtimes={**GOOD.runtimes, "crun": "crun version 1.8"})
    assert statuses(crun)["crun"] is Status.WARN
    assert statuses(dataclasses.replace(crun, hybrid_cgroups=False))["crun"] is Status.OK
    assert statuses(dataclasses.replace(GOOD, runtimes={"runc": "runc"}))["runsc"] is Status.WARN
    assert summary(dataclasses.replace(GOOD, runtimes={"runc": "runc"})).status is Status.OK
