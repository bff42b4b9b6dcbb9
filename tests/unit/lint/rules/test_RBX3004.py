"""RBX3004: sudo in a RUN."""

from tests.unit.lint.helpers import lines

RULE = "RBX3004"


def test_sudo() -> None:
    text = "FROM debian:12\nUSER app\nRUN echo hi && \\\n    sudo apt-get install -y x\n"
    assert lines(text, RULE) == [4]


def test_passing() -> None:
    assert lines("FROM debian:12\nRUN echo sudo && apt-get install -y sudo-ldap\n", RULE) == []


def test_onbuild_run_is_checked() -> None:
    assert lines("FROM debian:bookworm\nONBUILD RUN sudo make install\n", RULE) == [2]
    assert lines("FROM debian:bookworm\nonbuild run sudo make install\n", RULE) == [2]
