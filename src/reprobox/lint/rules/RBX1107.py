"""RBX1107: a script downloaded with curl or wget is piped straight into a shell."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.dockerfile.shell import ShellCommand
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_FETCH = frozenset({"curl", "wget"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3", "perl"})


class CurlPipeShell(Rule):
    """``curl ... | sh`` and ``sh -c "$(curl ...)"``."""

    meta = RuleMeta(
        id="RBX1107",
        title="Downloaded script piped into a shell",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "`curl https://get.example.sh | sh` runs whatever the server sends that day, "
            "unverified. The script changes between builds (and may be swapped by an "
            "attacker), and a truncated download runs half a script."
        ),
        bad="RUN curl -fsSL https://example.org/install.sh | sh",
        good="ADD --checksum=sha256:<digest> https://example.org/install.sh /tmp/\n"
        "RUN sh /tmp/install.sh",
        fix="download to a file, verify its checksum, then run it",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for instr in dockerfile.runs:
            commands = instr.commands
            for index, command in enumerate(commands):
                if _pipes_to_shell(commands, index) or _substitutes(command):
                    line = dockerfile.locate(instr, command.program or "curl")
                    yield self.finding(dockerfile, line, "remote script run without a check")


def _pipes_to_shell(commands: tuple[ShellCommand, ...], index: int) -> bool:
    command = commands[index]
    if command.program not in _FETCH or not command.piped or index + 1 >= len(commands):
        return False
    return commands[index + 1].program in _SHELLS


def _substitutes(command: ShellCommand) -> bool:
    if command.program not in _SHELLS:
        return False
    return any("$(curl" in w or "$(wget" in w or "`curl" in w for w in command.args)
