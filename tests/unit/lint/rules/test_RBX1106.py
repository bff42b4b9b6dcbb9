"""RBX1106: ADD of a URL without --checksum."""

from tests.unit.lint.helpers import lines

RULE = "RBX1106"


def test_add_url() -> None:
    text = "FROM debian:12\nADD https://example.org/tool.tgz /opt/\n"
    assert lines(text, RULE) == [2]


def test_passing() -> None:
    ok = (
        "FROM debian:12\n"
        "ADD --checksum=sha256:" + "a" * 64 + " https://example.org/t.tgz /opt/\n"
        "ADD local.tgz /opt/\n"
        "ADD https://github.com/x/y.git#v1.0 /src\n"
    )
    assert lines(ok, RULE) == []
