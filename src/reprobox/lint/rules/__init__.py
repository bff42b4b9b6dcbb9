"""The rule catalog: an explicit, ordered registry (never directory scanning).

IDs are stable forever and never reused: RBX1xxx parse and reproducibility, RBX2xxx build
context, RBX3xxx security hygiene, RBX4xxx bloat. Add a rule by adding its module, its test
module, its doc page (generated) and one line here; ``tests/unit/lint/test_catalog.py`` checks
that the four agree.
"""

from __future__ import annotations

from reprobox.lint.rules import (
    RBX1000,
    RBX1001,
    RBX1101,
    RBX1102,
    RBX1103,
    RBX1104,
    RBX1105,
    RBX1106,
    RBX1107,
    RBX1108,
    RBX1109,
    RBX1110,
    RBX2001,
    RBX2002,
    RBX2003,
    RBX2004,
    RBX2005,
    RBX2006,
    RBX2007,
    RBX3001,
    RBX3002,
    RBX3003,
    RBX3004,
    RBX4001,
    RBX4002,
    RBX4003,
    RBX4004,
)
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

RULES: tuple[Rule, ...] = (
    RBX1000.ParseError(),
    RBX1001.InternalError(),
    RBX1101.MovingBaseImage(),
    RBX1102.TagWithoutDigest(),
    RBX1103.UnpinnedPip(),
    RBX1104.RequirementsWithoutHashes(),
    RBX1105.LockfileNotEnforced(),
    RBX1106.AddUrlWithoutChecksum(),
    RBX1107.CurlPipeShell(),
    RBX1108.LoneAptUpdate(),
    RBX1109.BytecodeWithoutEpoch(),
    RBX1110.PythonVersionDrift(),
    RBX2001.NoDockerignore(),
    RBX2002.GitInContext(),
    RBX2003.SecretsInContext(),
    RBX2004.EnvsAndCachesInContext(),
    RBX2005.GitignoredInContext(),
    RBX2006.CopyOfExcluded(),
    RBX2007.CopyAllBeforeInstall(),
    RBX3001.RunsAsRoot(),
    RBX3002.SecretInEnvOrArg(),
    RBX3003.VerificationOff(),
    RBX3004.Sudo(),
    RBX4001.InstallRecommends(),
    RBX4002.PackageCacheLeft(),
    RBX4003.PipCacheLeft(),
    RBX4004.BuildToolsInFinalStage(),
)

INTERNAL_ERROR = "RBX1001"

BY_ID: dict[str, Rule] = {rule.meta.id: rule for rule in RULES}


def meta(rule_id: str) -> RuleMeta | None:
    """The metadata of a rule by ID (case-insensitive), or None."""
    rule = BY_ID.get(rule_id.upper())
    return rule.meta if rule else None


__all__ = ["BY_ID", "RULES", "Category", "Finding", "Rule", "RuleMeta", "Severity", "meta"]
