"""RBX1103: pip installs without exact versions."""

from tests.unit.lint.helpers import findings, lines

RULE = "RBX1103"
SHA = "0123456789abcdef0123456789abcdef01234567"
DEBIAN = "FROM debian:bookworm\n"


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
        "RUN pip install . ./wheels/x-1.0-py3-none-any.whl 'git+https://x/y@" + SHA + "'\n"
        "RUN pip install -e . --index-url https://example.org/simple\n"
        "RUN echo pip install nothing\n"
    )
    assert lines(ok, RULE) == []


def test_values_of_pip_options_are_not_packages() -> None:
    for option in ("--root-user-action ignore", "--use-feature truststore", "--exists-action w",
                   "--python-version 3.11", "--log /tmp/pip.log", "--retries 3"):  # fmt: skip
        assert lines(f"{DEBIAN}RUN pip install {option} flask==3.0.3\n", RULE) == [], option
    found = findings(f"{DEBIAN}RUN pip install --root-user-action ignore flask\n", RULE)
    assert [f.message for f in found] == ["unpinned: flask"]


def test_an_argument_with_a_slash_is_a_path_to_pip() -> None:
    assert lines(f"{DEBIAN}RUN pip install foo/bar src/pkg\n", RULE) == []


def test_vcs_requirement_must_name_a_commit() -> None:
    for req in ("git+https://host/repo.git", "git+https://host/repo.git@v1.2#egg=x",
                "'pkg @ git+https://host/repo.git@main'", "hg+https://host/repo"):  # fmt: skip
        found = findings(f"{DEBIAN}RUN pip install {req}\n", RULE)
        assert [f.message.split(":")[0] for f in found] == [
            "VCS requirement not pinned to a commit"
        ], req
    pinned = f"git+https://host/repo.git@{SHA}#egg=x 'pkg @ git+ssh://git@host/r@{SHA}'"
    assert lines(f"{DEBIAN}RUN pip install {pinned}\n", RULE) == []


def test_onbuild_run_is_checked() -> None:
    assert lines(f"{DEBIAN}ONBUILD RUN pip install flask\n", RULE) == [2]
