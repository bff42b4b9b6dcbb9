"""``reprobox pin``: add the registry's digest to every ``FROM image:tag``.

Digests come from the registry's HTTP API v2 (:mod:`reprobox.pin.registry`) or, with
``--local``, from the local engine's ``RepoDigests`` (:mod:`reprobox.pin.local`); the sites to
rewrite come from the shared Dockerfile model (:mod:`reprobox.pin.sites`).
"""

from reprobox.pin.reference import Reference
from reprobox.pin.registry import Registry
from reprobox.pin.runner import FileReport, Pinned, PinReport, Problem, Resolver, pin_paths

__all__ = [
    "FileReport",
    "PinReport",
    "Pinned",
    "Problem",
    "Reference",
    "Registry",
    "Resolver",
    "pin_paths",
]
