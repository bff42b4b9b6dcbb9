"""The MCP tools ``run``, ``write_file`` and ``read_file`` over one :class:`BoxSession`.

Every tool answers with text content (for the model) and structured content (for the client,
matching the published output schema). What the agent did wrong or what the box refused (a
timeout, a missing file, a bad path, a box that was lost) is a tool error (``isError``) with a
one-line message: the server itself never stops over a tool call.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from pydantic import Field
from typing_extensions import TypedDict

from reprobox import __version__, errors
from reprobox.mcpserver import instructions
from reprobox.mcpserver.session import BoxSession, FileRead, FileWritten
from reprobox.sandbox import RunResult, Sandbox

T = TypeVar("T")
Encoding = Literal["utf-8", "base64"]


class RunOutput(TypedDict):
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    oom_killed: bool
    stdout_truncated: bool
    stderr_truncated: bool
    stdout_bytes: int
    stderr_bytes: int
    duration_s: float


class WriteOutput(TypedDict):
    path: str
    bytes_written: int


class ReadOutput(TypedDict):
    path: str
    content: str
    encoding: Encoding
    size_bytes: int | None
    truncated: bool


def descriptions(box: Sandbox) -> dict[str, str]:
    """The three tools' descriptions, each ending with the box's rules."""
    limit = box.policy.timeout_s
    timeout = f"at most {limit:g} s (the default)" if limit else "none by default"
    cap = box.policy.output_cap_bytes
    intro = {
        "run": (
            f"Run a shell command (sh -c) in a throwaway Linux box, in its working folder "
            f"{box.workdir}. Files persist between calls of this session; no process outlives "
            f"a call. Timeout: {timeout}; timeout_s asks for a shorter one. Returns exit_code, "
            f"stdout and stderr (at most {cap} bytes each, the rest counted and dropped), "
            "timed_out, oom_killed and the truncation flags. A timeout or an out-of-memory "
            "kill is reported as an error."
        ),
        "write_file": (
            f"Create or replace a file in the box (parent folders are created). The path is "
            f"relative to {box.workdir} unless absolute. encoding 'base64' writes binary "
            "content. Only the writable folders below accept files."
        ),
        "read_file": (
            f"Read a file in the box (relative to {box.workdir} unless absolute): at most "
            f"{cap} bytes, as text when it is UTF-8, otherwise base64 (encoding says which). "
            "A missing file or a folder is an error."
        ),
    }
    rules = instructions(box)
    return {name: f"{text}\n\n{rules}" for name, text in intro.items()}


def failure(error: errors.ReproboxError) -> CallToolResult:
    """A tool error: the message (and hint) for the model, nothing else."""
    text = error.message + (f" ({error.hint})" if error.hint else "")
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def success(structured: Any, note: str | None = None) -> CallToolResult:
    """Structured content, also serialised as JSON text; ``note`` makes it a tool error."""
    blocks: list[ContentBlock] = [
        TextContent(type="text", text=json.dumps(structured, ensure_ascii=False))
    ]
    if note:
        blocks.insert(0, TextContent(type="text", text=note))
    return CallToolResult(content=blocks, structured_content=structured, is_error=bool(note))


def run_output(result: RunResult) -> RunOutput:
    return RunOutput(
        exit_code=result.exit_code,
        stdout=result.stdout_text,
        stderr=result.stderr_text,
        timed_out=result.timed_out,
        oom_killed=result.oom_killed,
        stdout_truncated=result.stdout_truncated,
        stderr_truncated=result.stderr_truncated,
        stdout_bytes=result.stdout_bytes,
        stderr_bytes=result.stderr_bytes,
        duration_s=round(result.duration_s, 3),
    )


def run_note(result: RunResult, timeout: float | None, memory: int | None) -> str | None:
    """Why a run is a tool error (it was killed), or ``None``."""
    if result.timed_out:
        return (
            f"timed out after {timeout:g} s: the command and every process it started were "
            "killed; its output so far is below"
        )
    if result.oom_killed:
        return (
            f"killed: the command exceeded the box's {(memory or 0) >> 20} MiB memory limit; "
            "its output so far is below"
        )
    return None


def read_output(read: FileRead) -> ReadOutput:
    try:
        content, encoding = read.data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        content, encoding = base64.b64encode(read.data).decode("ascii"), "base64"
    return ReadOutput(
        path=read.path,
        content=content,
        encoding="utf-8" if encoding == "utf-8" else "base64",
        size_bytes=read.size_bytes,
        truncated=read.truncated,
    )


def decode(content: str, encoding: Encoding) -> bytes:
    if encoding == "utf-8":
        return content.encode("utf-8")
    try:
        return base64.b64decode(content, validate=True)
    except binascii.Error as exc:
        raise errors.UsageError(f"content is not valid base64: {exc}") from exc


async def in_thread(call: Callable[[], T]) -> T:
    """Run a blocking session call; if the request is cancelled (client gone, server
    stopping) stop waiting: closing the session ends the call."""
    return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)


async def guarded(call: Callable[[], T], render: Callable[[T], CallToolResult]) -> CallToolResult:
    try:
        value = await in_thread(call)
    except errors.ReproboxError as exc:
        return failure(exc)
    return render(value)


def build_server(session: BoxSession, box: Sandbox) -> MCPServer[Any]:
    """An MCP server whose three tools act on ``session``'s box (described by ``box``)."""
    text = descriptions(box)
    server: MCPServer[Any] = MCPServer(
        "reprobox", instructions=instructions(box), version=__version__, log_level="WARNING"
    )
    policy = session.policy

    async def run(
        command: Annotated[str, Field(description="Shell command, run with sh -c.")],
        timeout_s: Annotated[
            float | None, Field(description="Seconds before it is killed (default: the limit).")
        ] = None,
    ) -> Annotated[CallToolResult, RunOutput]:
        def render(result: RunResult) -> CallToolResult:
            seconds = session.timeout(timeout_s)
            note = run_note(result, seconds, policy.memory_bytes)
            return success(run_output(result), note)

        return await guarded(lambda: session.run(command, timeout_s), render)

    async def write_file(
        path: Annotated[str, Field(description="File path, relative to the working folder.")],
        content: Annotated[str, Field(description="The file's new content.")],
        encoding: Annotated[Encoding, Field(description="How content is encoded.")] = "utf-8",
    ) -> Annotated[CallToolResult, WriteOutput]:
        def write() -> FileWritten:
            return session.write_file(path, decode(content, encoding))

        return await guarded(
            write,
            lambda done: success(WriteOutput(path=done.path, bytes_written=done.bytes_written)),
        )

    async def read_file(
        path: Annotated[str, Field(description="File path, relative to the working folder.")],
    ) -> Annotated[CallToolResult, ReadOutput]:
        return await guarded(
            lambda: session.read_file(path), lambda read: success(read_output(read))
        )

    # Open world only when the box shares the host's network.
    world = policy.network == "host"
    for tool, read_only in ((run, False), (write_file, False), (read_file, True)):
        hints = ToolAnnotations(
            read_only_hint=read_only, destructive_hint=not read_only, open_world_hint=world
        )
        server.add_tool(
            tool, name=tool.__name__, description=text[tool.__name__], annotations=hints
        )
    return server
