"""RBX1103: pip installs without exact versions."""

from tests.unit.lint.helpers import findings, lines

RULE = "RBX1103"


def test_unpinned_and_ranges() -> None:
    text = "FROM python:3.12\nRUN pip install --no-cache-dir flask 'requests>=2' rich==13.7.1\n"
    found = findings(text, RULE)
    assert [f.line for f in found] == [2]
    assert "flask" in found[0].message and "requests>=2" in found[0].message
    assert "rich" not in found[0].message


def test_reports_the_continuation_line() -> None:
    text = "FROM python:3.12\nRUN set -eux; \\\n    python -m pip install \\\n      httpx\n"
    assert lines(text, RULE) == [4]


def test_uv_pip_and_upgrade_pip() -> None:
    assert lines("FROM python:3.12\nRUN uv pip install --system httpx\n", RULE) == [2]
    assert lines("FROM python:3.12\nRUN pip install --upgrade pip\n", RULE) == [2]


def test_passing() -> None:
    ok = (
        "FROM python:3.12\n"
        "RUN pip install flask==3.0.3 -r req.txt -c constraints.txt\n"
        "RUN pip install . ./wheels/x-1.0-py3-none-any.whl 'git+https://x/y@abc'\n"
        "RUN pip install -e . --index-url https://example.org/simple\n"
        "RUN echo pip install nothing\n"
    )
    assert lines(ok, RULE) == []
