"""RBX1107: curl/wget piped into a shell."""

from tests.unit.lint.helpers import lines

RULE = "RBX1107"


def test_curl_pipe_sh() -> None:
    assert lines("FROM debian:12\nRUN curl -fsSL https://x.sh | sh\n", RULE) == [2]


def test_wget_pipe_bash_on_a_continuation_line() -> None:
    text = "FROM debian:12\nRUN apt-get update && \\\n    wget -qO- https://x.sh | bash -s --\n"
    assert lines(text, RULE) == [3]


def test_command_substitution() -> None:
    assert lines('FROM debian:12\nRUN sh -c "$(curl -fsSL https://x.sh)"\n', RULE) == [2]


def test_passing() -> None:
    ok = (
        "FROM debian:12\n"
        "RUN curl -fsSLo /tmp/i.sh https://x.sh && sha256sum -c sums && sh /tmp/i.sh\n"
        "RUN curl -fsSL https://x/key | gpg --dearmor -o /k.gpg\n"
    )
    assert lines(ok, RULE) == []
