"""``reprobox mcp`` driven by the MCP SDK's own stdio client, on the real engine: the tools,
state kept between calls, tool errors, and the box removed however the connection ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

from reprobox.engine import labels as rlabels
from tests.conftest import docker_cli
from tests.e2e.test_sandbox_support import leftovers

pytestmark = pytest.mark.e2e


def server_args(image: str, labels: dict[str, str], *extra: str) -> list[str]:
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    return ["-m", "reprobox", "mcp", "--image", image, *label_args, *extra]


def texts(res: CallToolResult) -> list[str]:
    return [block.text for block in res.content if isinstance(block, TextContent)]


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def running_sleep(labels: dict[str, str]) -> str | None:
    """The box's container ID once ``sleep 1000`` runs in it."""
    for cid in leftovers(labels):
        if "sleep 1000" in docker_cli("top", cid, check=False).stdout:
            return cid
    return None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def server_pid(cid: str) -> int:
    found = docker_cli("inspect", "--format", f'{{{{index .Config.Labels "{rlabels.PID}"}}}}', cid)
    return int(found.stdout.strip())


def test_an_agent_session_keeps_state_reports_errors_and_leaves_nothing(
    base_image: str, labels: dict[str, str]
) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=server_args(base_image, labels), env=dict(os.environ)
    )
    seen: dict[str, Any] = {}
    code = "import json\nprint(sum(json.load(open('in.json'))))\n"

    async def agent() -> None:
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            seen["tools"] = tools
            seen["before_first_call"] = leftovers(labels)
            writes = [
                await client.call_tool("write_file", {"path": "src/sum.py", "content": code}),
                await client.call_tool("write_file", {"path": "in.json", "content": "[1, 2, 39]"}),
            ]
            seen["writes"] = writes
            seen["run"] = await client.call_tool(
                "run", {"command": "python3 src/sum.py | tee out.txt; id -u"}
            )
            seen["read"] = await client.call_tool("read_file", {"path": "/work/out.txt"})
            seen["missing"] = await client.call_tool("read_file", {"path": "nope.txt"})
            seen["folder"] = await client.call_tool("read_file", {"path": "src"})
            seen["readonly"] = await client.call_tool(
                "write_file", {"path": "/etc/x", "content": "1"}
            )
            seen["timeout"] = await client.call_tool(
                "run", {"command": "echo started; sleep 1000", "timeout_s": 1.5}
            )
            blob = {"path": "/tmp/b.bin", "content": "AP8BAg==", "encoding": "base64"}
            seen["blob_write"] = await client.call_tool("write_file", blob)
            seen["blob"] = await client.call_tool("read_file", {"path": "/tmp/b.bin"})
            flood = "head -c 3000000 /dev/zero | tr '\\0' x"
            seen["flood"] = await client.call_tool("run", {"command": flood})
            seen["after"] = await client.call_tool(
                "run", {"command": "cat out.txt; grep -las 'slee[p].1000' /proc/[0-9]*/cmdline"}
            )
            seen["during"] = leftovers(labels)

    anyio.run(agent)
    assert leftovers(labels) == [], "the box outlived the client's disconnect"

    assert sorted(seen["tools"]) == ["read_file", "run", "write_file"]
    assert "fork bombs: at most 128 processes" in seen["tools"]["run"].description
    assert seen["before_first_call"] == [], "the box is made on first use"
    assert len(seen["during"]) == 1, "one box for the whole connection"
    assert [w.structured_content for w in seen["writes"]] == [
        {"path": "/work/src/sum.py", "bytes_written": len(code)},
        {"path": "/work/in.json", "bytes_written": 10},
    ]
    run = seen["run"]
    assert not run.is_error and run.structured_content["stdout"] == "42\n65534\n"
    assert json.loads(texts(run)[0]) == run.structured_content
    assert seen["read"].structured_content == {
        "path": "/work/out.txt",
        "content": "42\n",
        "encoding": "utf-8",
        "size_bytes": 3,
        "truncated": False,
    }
    assert (seen["missing"].is_error, texts(seen["missing"])) == (
        True,
        ["no such file: /work/nope.txt"],
    )
    assert seen["folder"].is_error and "/work/src is a folder" in texts(seen["folder"])[0]
    assert seen["readonly"].is_error
    assert texts(seen["readonly"]) == [
        "cannot write /etc/x: /etc is read-only in the box (write under /work or /tmp)"
    ]
    timeout = seen["timeout"]
    assert timeout.is_error and texts(timeout)[0].startswith("timed out after 1.5 s")
    assert timeout.structured_content["timed_out"] is True
    assert timeout.structured_content["stdout"] == "started\n"
    assert seen["blob_write"].structured_content["bytes_written"] == 4
    blob = seen["blob"].structured_content
    assert (blob["encoding"], blob["content"], blob["size_bytes"]) == ("base64", "AP8BAg==", 4)
    flood = seen["flood"].structured_content
    assert not seen["flood"].is_error and flood["stdout"] == "x" * (1 << 20)
    assert (flood["stdout_truncated"], flood["stdout_bytes"]) == (True, 3000000)
    after = seen["after"].structured_content
    assert after["stdout"] == "42\n", "state kept after the timeout; no sleep left running"
    assert after["exit_code"] == 1


CLIENT = textwrap.dedent(
    """
    import os, sys, anyio
    from mcp import Client, StdioServerParameters

    async def main():
        env = dict(os.environ)
        params = StdioServerParameters(command=sys.executable, args=sys.argv[1:], env=env)
        async with Client(params) as client:
            await client.call_tool("write_file", {"path": "x", "content": "1"})
            print("ready", flush=True)
            await client.call_tool("run", {"command": "sleep 1000"})

    anyio.run(main)
    """
)


def test_a_killed_client_takes_its_box_with_it(base_image: str, labels: dict[str, str]) -> None:
    args = server_args(base_image, labels, "--timeout", "0")
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert client.stdout is not None and client.stdout.readline() == "ready\n"
        cid = wait_until(lambda: running_sleep(labels), "sleep 1000 to run in the box")
        pid = server_pid(cid)
        assert alive(pid)
        client.kill()
        client.wait(10)
        wait_until(lambda: not leftovers(labels), "the server to remove the box")
        wait_until(lambda: not alive(pid), "the server to exit")
    finally:
        client.kill()
        client.wait(10)


def send(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
    proc.stdin.flush()


def test_sigterm_removes_the_box_even_mid_command(base_image: str, labels: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, *server_args(base_image, labels, "--timeout", "0")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}}
        hello["clientInfo"] = {"name": "test", "version": "1"}
        send(proc, {"id": 1, "method": "initialize", "params": hello})
        assert proc.stdout is not None and b'"id":1' in proc.stdout.readline()
        send(proc, {"method": "notifications/initialized"})
        call = {"name": "run", "arguments": {"command": "sleep 1000"}}
        send(proc, {"id": 2, "method": "tools/call", "params": call})
        wait_until(lambda: running_sleep(labels), "sleep 1000 to run in the box")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert stderr.decode().strip().splitlines()[-1] == (
            "reprobox mcp: stopped by a signal; the box was removed"
        )
        assert leftovers(labels) == []
    finally:
        proc.kill()
        proc.wait(10)
