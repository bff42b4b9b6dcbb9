"""``reprobox mcp`` on the command line: shared box options, --explain, a missing SDK."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from reprobox.cli.main import cli, load


def test_mcp_and_run_share_one_definition_of_the_box_options() -> None:
    from reprobox.cli.box_options import NAMES

    for name in ("run", "mcp"):
        params = [p.name for p in load(name).params]
        assert params[: len(NAMES)] == list(NAMES), name
    run_opts = {p.name: p for p in load("run").params}
    mcp_opts = {p.name: p for p in load("mcp").params}
    for name in NAMES:
        assert run_opts[name].help == mcp_opts[name].help  # type: ignore[attr-defined]


def test_explain_prints_what_the_agent_is_told() -> None:
    done = CliRunner().invoke(
        cli, ["mcp", "--image", "img:1", "--network", "host", "--timeout", "5", "--explain"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.startswith("The box runs the image img:1.\n")
    assert "runaway commands: killed after 5 s" in done.output
    assert "NETWORK: --network host shares the host's network" in done.output


def test_bad_option_values_are_usage_errors() -> None:
    done = CliRunner().invoke(cli, ["mcp", "--image", "img:1", "--memory", "lots", "--explain"])
    assert done.exit_code == 2 and "not a size: 'lots'" in done.output


def test_a_missing_sdk_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import reprobox.mcpserver

    for module in [m for m in sys.modules if m == "mcp" or m.startswith("mcp.")]:
        monkeypatch.delitem(sys.modules, module)
    for module in ("reprobox.mcpserver.server", "reprobox.mcpserver.tools"):
        monkeypatch.delitem(sys.modules, module, raising=False)
        monkeypatch.delattr(reprobox.mcpserver, module.rpartition(".")[2], raising=False)
    monkeypatch.setitem(sys.modules, "mcp", None)  # type: ignore[arg-type]
    done = CliRunner().invoke(cli, ["--host", "unix:///nonexistent.sock", "mcp", "--image", "i"])
    assert (done.exit_code, done.output) == (
        3,
        "error: the MCP Python SDK is not installed (PyPI package reprobox[mcp]): "
        "reprobox mcp serves with it\n"
        "hint: install it: pip install 'reprobox[mcp]'\n",
    )
