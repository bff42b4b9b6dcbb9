"""RBX1102: base image pinned by tag only."""

from tests.unit.lint.helpers import lines

RULE = "RBX1102"
DIGEST = "@sha256:" + "a" * 64


def test_tag_only() -> None:
    assert lines("FROM python:3.12-slim\n", RULE) == [1]


def test_every_stage() -> None:
    text = f"FROM golang:1.22 AS build\nRUN true\nFROM debian:12{DIGEST}\nFROM node:20\n"
    assert lines(text, RULE) == [1, 4]


def test_arg_resolved_tag() -> None:
    assert lines("ARG V=3.12\n\nFROM python:${V}-slim\n", RULE) == [3]


def test_passing() -> None:
    assert lines(f"FROM python:3.12-slim{DIGEST}\n", RULE) == []
    assert lines("FROM python\n", RULE) == []  # RBX1101's job
    assert lines(f"FROM python:3.12{DIGEST} AS b\nFROM b\n", RULE) == []
