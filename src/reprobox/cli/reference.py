"""Generate docs/cli.md from the live command tree, so the CLI reference cannot drift.

    python -m reprobox.cli.reference > docs/cli.md

A test compares the checked-in page with this output.
"""

from __future__ import annotations

import click

from reprobox.cli.main import cli


def _section(name: str, command: click.Command, parent: click.Context) -> list[str]:
    ctx = click.Context(
        command, info_name=name, parent=parent, terminal_width=100, max_content_width=100
    )
    title = ctx.command_path
    lines = [f"## `{title}`", "", "```", command.get_help(ctx).rstrip(), "```", ""]
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None:
                lines += _section(sub_name, sub, ctx)
    return lines


def render() -> str:
    root = click.Context(
        cli,
        info_name="reprobox",
        terminal_width=100,
        max_content_width=100,
        help_option_names=["-h", "--help"],
    )
    lines = [
        "# CLI reference",
        "",
        "Generated from the command tree by `python -m reprobox.cli.reference`; "
        "a test keeps it in sync.",
        "",
        "```",
        cli.get_help(root).rstrip(),
        "```",
        "",
    ]
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        if command is not None:
            lines += _section(name, command, root)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    click.echo(render(), nl=False)
