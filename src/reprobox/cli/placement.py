"""Arguments in the wrong place, caught while parsing and explained with the line that was
meant: ``reprobox run CMD --image IMG`` (the option would go to CMD) and
``reprobox test -- CMD`` (CMD's first word would be read as the folder)."""

from __future__ import annotations

import shlex

import click

DASHDASH = "--"


def _option(command: click.Command, token: str) -> click.Option | None:
    """The command's own option ``token`` names (``--image``, ``--image=x``, ``-f``)."""
    name = token.split("=", 1)[0]
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _takes_value(option: click.Option, token: str) -> bool:
    return not option.is_flag and not option.count and "=" not in token


def first_positional(command: click.Command, args: list[str]) -> int | None:
    """Index of the first argument that is not one of the command's options or their
    values, before any ``--``."""
    i = 0
    while i < len(args) and args[i] != DASHDASH:
        option = _option(command, args[i]) if args[i].startswith("-") else None
        if option is None and not args[i].startswith("-"):
            return i
        i += 2 if option is not None and _takes_value(option, args[i]) else 1
    return None


class CommandFirstOptionsLast(click.Command):
    """``reprobox run``: a command followed by reprobox's own options, with no ``--`` to say
    they belong to the command, is refused with the line that was meant."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        start = first_positional(self, args)
        if DASHDASH not in args and start is not None:
            own = [i for i in range(start, len(args)) if _option(self, args[i]) is not None]
            if own:
                meant = [*args[:start], *args[own[0] :], DASHDASH, *args[start : own[0]]]
                raise click.UsageError(
                    f"{args[own[0]]} comes after the command, so it would be passed to it: "
                    f"put reprobox's options first: {ctx.command_path} {shlex.join(meant)} "
                    f"(or, to pass it to the command, write -- before the command)",
                    ctx,
                )
        return super().parse_args(ctx, args)


class FolderBeforeDashDash(click.Command):
    """``reprobox test -- CMD``: the folder must come before ``--``, else CMD's first word
    would be read as the folder."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if DASHDASH in args:
            cut = args.index(DASHDASH)
            after = args[cut + 1 :]
            if after and first_positional(self, args[:cut]) is None:
                meant = [*args[:cut], ".", *args[cut:]]
                raise click.UsageError(
                    f"no folder before --, so {after[0]!r} would be read as the folder: "
                    f"name it first: {ctx.command_path} {shlex.join(meant)}",
                    ctx,
                )
        return super().parse_args(ctx, args)
