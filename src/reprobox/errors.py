"""One exception tree for everything reprobox raises on purpose.

Every error carries a one-line ``message`` (what happened) and a ``hint`` (what to do next).
The CLI prints ``error: <message>`` and, when present, ``hint: <hint>``, and maps the class to an
exit code in :mod:`reprobox.exitcodes`. Library errors (docker SDK, OS) are translated into these
at the boundary where they are caught, always with ``raise ... from``.
"""

from __future__ import annotations


class ReproboxError(Exception):
    """Base class of every error reprobox raises deliberately."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ReproboxError):
    """The caller asked for something that cannot be done as asked (bad option, bad path)."""


class EngineUnavailable(ReproboxError):
    """The container engine did not answer: not installed, not running, or not permitted."""


class EngineError(ReproboxError):
    """The engine answered with an error to a request that should have worked."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class ImageNotFound(ReproboxError):
    """An image the command needs is not on the engine (reprobox never pulls implicitly)."""


class ToolMissing(ReproboxError):
    """A program or Python package a command needs is not installed (buildah, debootstrap,
    hadolint, diffoscope, runc, umoci, the ``mcp`` extra...); the message names the Debian or
    PyPI package that provides it (see :mod:`reprobox.tools`)."""

    def __init__(self, message: str, hint: str | None = None, package: str = "") -> None:
        super().__init__(message, hint)
        self.package = package


class RegistryError(ReproboxError):
    """A registry could not tell ``reprobox pin`` what it asked (a digest, or that one exists)."""


class RegistryUnreachable(RegistryError):
    """Nothing answered at the registry's address (refused, timed out, TLS failed)."""


class TagNotFound(RegistryError):
    """The registry (or, with ``--local``, the engine) has no such tag."""


class RegistryAuthRequired(RegistryError):
    """The registry wants credentials; ``reprobox pin`` sends none."""


class BaseImageError(ReproboxError):
    """Building the offline base image failed (no root, no debootstrap, mirror unreachable)."""


class BuildFailed(ReproboxError):
    """An image build failed; ``log_tail`` holds the last lines of the failing step."""

    def __init__(
        self, message: str, hint: str | None = None, log_tail: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint)
        self.log_tail = log_tail


class SandboxError(ReproboxError):
    """The sandbox could not be created, used or torn down."""


class Unsupported(SandboxError):
    """The engine cannot give a box something its policy asks for (a box is refused, never
    silently weakened): e.g. limits on rootless Podman with cgroup v1, gVisor when rootless."""


class LintError(ReproboxError):
    """``reprobox lint`` could not do its job (unreadable file, I/O error, hadolint failed)."""


class ContextPatternError(LintError):
    """A ``.dockerignore`` (or ``.gitignore``) pattern the engine's matcher cannot use."""


class ContextTooLarge(LintError):
    """A build context has more entries than ``reprobox lint`` walks; it fails closed."""


class LintConfigError(UsageError):
    """``[tool.reprobox.lint]`` in ``pyproject.toml`` holds an unknown key or a bad value."""


class TestRunnerMissing(ReproboxError):
    """The project's test runner (pytest) is not in the image and cannot be installed."""

    __test__ = False  # not a pytest test class
