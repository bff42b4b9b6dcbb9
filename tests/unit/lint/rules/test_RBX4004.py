"""RBX4004: compilers or build tools in the final stage."""

from tests.unit.lint.helpers import findings, lines

RULE = "RBX4004"


def test_gcc_in_final_stage() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "      curl \\\n"
        "      gcc \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    found = findings(text, RULE)
    assert [f.line for f in found] == [4]
    assert "gcc" in found[0].message


def test_passing() -> None:
    multi = (
        "FROM python:3.12-slim AS build\nRUN apt-get install -y build-essential\n"
        "FROM python:3.12-slim\nCOPY --from=build /w /w\n"
    )
    assert lines(multi, RULE) == []
    purged = "FROM debian:12\nRUN apt-get install -y gcc && make && apt-get purge -y gcc\n"
    assert lines(purged, RULE) == []
    virtual = "FROM alpine:3\nRUN apk add --virtual .b gcc musl-dev && make && apk del .b\n"
    assert lines(virtual, RULE) == []
