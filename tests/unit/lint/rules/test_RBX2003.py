"""RBX2003: secrets in the build context."""

from pathlib import Path

from tests.unit.lint.helpers import context_findings, context_lines

RULE = "RBX2003"
DF = "FROM scratch\nCOPY . /app\n"


def test_env_keys_and_cloud_credentials(tmp_path: Path) -> None:
    files = {".env": "A=1", "deploy.pem": "k", ".aws/credentials": "k", "src/id_rsa": "k"}
    found = context_findings(tmp_path, DF, files, RULE)
    assert [f.line for f in found] == [2]
    for name in (".env", "deploy.pem", ".aws", "src/id_rsa"):
        assert name in found[0].message


def test_examples_and_excluded_pass(tmp_path: Path) -> None:
    files = {".env.example": "A=", ".env": "A=1", ".dockerignore": ".env\n"}
    assert context_lines(tmp_path, DF, files, RULE) == []
