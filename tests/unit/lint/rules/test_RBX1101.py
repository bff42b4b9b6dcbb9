"""RBX1101: base image with no tag or ``latest``."""

from tests.unit.lint.helpers import lines

RULE = "RBX1101"
DIGEST = "@sha256:" + "a" * 64


def test_no_tag() -> None:
    assert lines("FROM python\n", RULE) == [1]


def test_latest_in_every_stage() -> None:
    text = "FROM debian:latest AS build\nRUN true\n\nFROM alpine\n"
    assert lines(text, RULE) == [1, 4]


def test_arg_default_is_resolved() -> None:
    assert lines("ARG IMG=python\nFROM ${IMG}\n", RULE) == [2]
    assert lines("ARG TAG=latest\nFROM python:$TAG\n", RULE) == [2]


def test_registry_port_is_not_a_tag() -> None:
    assert lines("FROM localhost:5000/app\n", RULE) == [1]


def test_passing() -> None:
    assert lines("FROM python:3.12-slim\n", RULE) == []
    assert lines(f"FROM python{DIGEST}\n", RULE) == []
    assert lines("FROM scratch\n", RULE) == []
    assert lines("FROM python:3.12 AS base\nFROM base\n", RULE) == []
    assert lines("ARG IMG\nFROM $IMG\n", RULE) == []  # unresolved: cannot tell
