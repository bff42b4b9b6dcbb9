"""RBX3002: secret-looking names in ENV or ARG."""

from tests.unit.lint.helpers import lines

RULE = "RBX3002"


def test_secret_names() -> None:
    text = (
        "ARG PYPI_TOKEN\nFROM python:3.12\nENV A=1 \\\n    DB_PASSWORD=hunter2\n"
        "ARG aws_secret_access_key\n"
    )
    assert lines(text, RULE) == [1, 4, 5]


def test_passing() -> None:
    ok = (
        "FROM python:3.12\n"
        "ENV GPG_KEY=ABC PASSWORD_FILE=/run/secrets/pw TOKEN_URL=https://x\nARG VERSION=1\n"
    )
    assert lines(ok, RULE) == []
