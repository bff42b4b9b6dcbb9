"""The MCP tools over a fake box, through the SDK's own in-process client: schemas,
descriptions, structured results and tool errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

from reprobox import errors
from reprobox.mcpserver.session import BoxSession
from reprobox.mcpserver.tools import build_server
from reprobox.sandbox import Policy
from tests.unit.mcpserver.fakes import Boxes, result


def call(boxes: Boxes, body: Callable[[Client], Awaitable[Any]]) -> Any:
    session = BoxSession(boxes.new)  # type: ignore[arg-type]
    server = build_server(session, boxes.new())  # type: ignore[arg-type]

    async def main() -> Any:
        async with Client(server) as client:
            return await body(client)

    try:
        return anyio.run(main)
    finally:
        session.close()


def tool(boxes: Boxes, name: str, **arguments: Any) -> CallToolResult:
    async def body(client: Client) -> CallToolResult:
        return await client.call_tool(name, arguments)

    return call(boxes, body)  # type: ignore[no-any-return]


def texts(res: CallToolResult) -> list[str]:
    return [block.text for block in res.content if isinstance(block, TextContent)]


def test_three_tools_each_described_with_the_boxs_rules() -> None:
    async def body(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {t.name: t for t in call(Boxes(policy=Policy(timeout_s=20)), body)}
    assert sorted(tools) == ["read_file", "run", "write_file"]
    for t in tools.values():
        assert "The box runs the image img:1." in (t.description or "")
        assert "network access: the container is created with networking disabled" in (
            t.description or ""
        )
        assert "This box does NOT protect against:" in (t.description or "")
        assert t.output_schema is not None and t.annotations is not None
        assert t.annotations.open_world_hint is False
    assert "at most 20 s" in (tools["run"].description or "")
    assert tools["run"].input_schema["required"] == ["command"]
    assert set(tools["run"].input_schema["properties"]) == {"command", "timeout_s"}
    assert tools["write_file"].input_schema["required"] == ["path", "content"]
    assert tools["read_file"].input_schema["required"] == ["path"]
    assert tools["read_file"].annotations.read_only_hint is True  # type: ignore[union-attr]


def test_host_network_is_said_in_the_description_and_the_hints() -> None:
    async def body(client: Client) -> Any:
        return (await client.list_tools()).tools

    (first, *_) = call(Boxes(policy=Policy(network="host")), body)
    assert "NETWORK: --network host shares the host's network" in first.description
    assert first.annotations.open_world_hint is True


def test_run_returns_structured_content_and_the_same_as_json_text() -> None:
    boxes = Boxes(handler=lambda argv, t: result(3, b"out\n", b"err\n"))
    res = tool(boxes, "run", command="exit 3")
    assert not res.is_error, "a non-zero exit is the command's answer, not a tool error"
    assert res.structured_content is not None
    assert res.structured_content["exit_code"] == 3
    assert res.structured_content["stdout"] == "out\n"
    assert res.structured_content["stderr"] == "err\n"
    assert res.structured_content["timed_out"] is False
    assert json.loads(texts(res)[0]) == res.structured_content


def test_a_timeout_is_a_tool_error_that_keeps_the_output() -> None:
    boxes = Boxes(handler=lambda argv, t: result(137, b"started\n", timed_out=True))
    res = tool(boxes, "run", command="sleep 1000", timeout_s=2)
    assert res.is_error
    assert texts(res)[0].startswith("timed out after 2 s: the command and every process")
    assert res.structured_content is not None
    assert res.structured_content["timed_out"] is True
    assert res.structured_content["stdout"] == "started\n"
    assert boxes.made[0].runs[0][1] == 2


def test_out_of_memory_is_a_tool_error() -> None:
    boxes = Boxes(handler=lambda argv, t: result(137, oom_killed=True))
    res = tool(boxes, "run", command="python3 bomb.py")
    assert res.is_error and "exceeded the box's 512 MiB memory limit" in texts(res)[0]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"command": "true", "timeout_s": 99}, "over this server's limit of 30 s"),
        ({"command": ""}, "empty command"),
    ],
)
def test_bad_run_arguments_are_tool_errors(arguments: dict[str, Any], says: str) -> None:
    res = tool(Boxes(), "run", **arguments)
    assert res.is_error and says in texts(res)[0] and res.structured_content is None


def test_a_lost_engine_is_a_tool_error_not_a_crash() -> None:
    def handler(argv: list[str], t: float | None) -> Any:
        raise errors.EngineError("engine said 500", "is dockerd healthy?")

    res = tool(Boxes(handler=handler), "run", command="true")
    assert res.is_error
    assert texts(res) == [
        "the box was lost (engine said 500): it was removed, and the next call starts a new, "
        "empty box"
    ]


def test_read_file_text_and_binary() -> None:
    text = tool(
        Boxes(handler=lambda a, t: result(0, "héllo".encode(), b"6\n")), "read_file", path="a"
    )
    assert text.structured_content == {
        "path": "/work/a",
        "content": "héllo",
        "encoding": "utf-8",
        "size_bytes": 6,
        "truncated": False,
    }
    raw = b"\x89PNG\xff\x00"
    binary = tool(Boxes(handler=lambda a, t: result(0, raw, b"6\n")), "read_file", path="i.png")
    assert binary.structured_content is not None
    assert binary.structured_content["encoding"] == "base64"
    assert base64.b64decode(binary.structured_content["content"]) == raw


def test_a_missing_file_is_a_tool_error() -> None:
    res = tool(Boxes(handler=lambda a, t: result(3)), "read_file", path="nope.txt")
    assert res.is_error and texts(res) == ["no such file: /work/nope.txt"]


def test_write_file_text_base64_and_bad_base64() -> None:
    boxes = Boxes()
    res = tool(boxes, "write_file", path="d/a.bin", content="AAH/", encoding="base64")
    assert res.structured_content == {"path": "/work/d/a.bin", "bytes_written": 3}
    assert boxes.made[0].copies[0][1] == b"\x00\x01\xff"
    bad = tool(Boxes(), "write_file", path="a", content="not base64!", encoding="base64")
    assert bad.is_error and texts(bad)[0].startswith("content is not valid base64")
    empty = tool(Boxes(), "write_file", path="", content="x")
    assert empty.is_error and "empty path" in texts(empty)[0]
