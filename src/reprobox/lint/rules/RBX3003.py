"""RBX3003: TLS verification or package signature checks are turned off."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile, Instruction
from reprobox.dockerfile.shell import ShellCommand
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_OPTIONS = {
    "curl": ("--insecure",),
    "wget": ("--no-check-certificate",),
    "pip": ("--trusted-host",),
    "pip3": ("--trusted-host",),
    "apt-get": ("--allow-unauthenticated", "--allow-insecure-repositories", "--force-yes"),
    "apt": ("--allow-unauthenticated", "--allow-insecure-repositories"),
    "apk": ("--allow-untrusted",),
    "yum": ("--nogpgcheck",),
    "dnf": ("--nogpgcheck",),
    "rpm": ("--nosignature", "--nodigest"),
    "npm": ("--strict-ssl=false",),
}
_TEXT = (
    "sslverify false", "sslverify=false", "strict-ssl false", "[trusted=yes]",
    "allowinsecurerepositories", "allowunauthenticated", "verify-peer=false", "verify-peer false",
    "check-valid-until=false", "gpgcheck=0", "no-check-certificate",
)  # fmt: skip
_ENV = {
    "PYTHONHTTPSVERIFY": "0",
    "GIT_SSL_NO_VERIFY": "",
    "NODE_TLS_REJECT_UNAUTHORIZED": "0",
    "PIP_TRUSTED_HOST": "",
    "CURL_INSECURE": "",
}


class VerificationOff(Rule):
    """Insecure flags of curl, wget, pip, apt, apk, yum, rpm, npm, git; insecure ENV values."""

    meta = RuleMeta(
        id="RBX3003",
        title="TLS verification or signature checks turned off",
        category=Category.SECURITY,
        severity=Severity.ERROR,
        rationale=(
            "`curl -k`, `pip --trusted-host`, `apt-get --allow-unauthenticated`, "
            "`git -c http.sslVerify=false` and friends accept whatever a network attacker or "
            "a hijacked mirror serves, and put it in the image."
        ),
        bad="RUN curl -kfsSLO https://example.org/tool.tgz",
        good="RUN curl -fsSLO https://example.org/tool.tgz \\\n"
        " && echo '<sha256>  tool.tgz' | sha256sum -c -",
        fix="keep verification on; fix the CA bundle or the mirror instead",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.instructions:
            found = _env(instr) if instr.cmd in ("ENV", "ARG") else _run(instr)
            if found:
                line = dockerfile.locate(instr, found)
                yield self.finding(dockerfile, line, f"verification turned off: {found}")


def _env(instr: Instruction) -> str | None:
    for name, value in instr.pairs:
        expected = _ENV.get(name.upper())
        if expected is not None and (not expected or value.strip("\"'") == expected):
            return name
    return None


def _run(instr: Instruction) -> str | None:
    if not instr.runs_shell:
        return None
    for command in instr.commands:
        found = _command(command)
        if found:
            return found
    lowered = instr.original.lower()
    return next((t for t in _TEXT if t in lowered), None)


def _command(command: ShellCommand) -> str | None:
    options = _OPTIONS.get(command.program, ())
    for word in command.args:
        if word in options or word.split("=", 1)[0] in options:
            return word
        short = word.startswith("-") and not word.startswith("--")
        if command.program == "curl" and short and "k" in word:
            return word
    return None
