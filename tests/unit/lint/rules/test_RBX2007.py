"""RBX2007: COPY . before the dependencies are installed."""

from tests.unit.lint.helpers import findings, lines

RULE = "RBX2007"


def test_copy_all_then_install() -> None:
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.lock\n"
    found = findings(text, RULE)
    assert [f.line for f in found] == [3]
    assert "line 4" in found[0].message


def test_npm() -> None:
    assert lines("FROM node:20\nCOPY ./ /app\nRUN npm ci\n", RULE) == [2]


def test_passing() -> None:
    ok = (
        "FROM python:3.12\n"
        "COPY requirements.lock .\n"
        "RUN pip install --require-hashes -r requirements.lock\n"
        "COPY . .\n"
        "RUN pip install --no-deps .\n"
    )
    assert lines(ok, RULE) == []
    assert lines('FROM python:3.12\nCOPY . .\nCMD ["python", "app.py"]\n', RULE) == []
