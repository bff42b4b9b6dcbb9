"""Text from outside reprobox (build output, engine messages) is printed literally."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from reprobox.cli import build as build_cli
from reprobox.cli.common import literal, plain


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[91mred\x1b[0m", "red"),
        ("\x1b]0;title\x07after", "after"),
        ("a\rb\x00c\x7fd", "abcd"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("[/usr/share/doc] :smile:", "[/usr/share/doc] :smile:"),
        ("bad \udcff byte", "bad ? byte"),
    ],
)
def test_plain_drops_escapes_and_controls_only(raw: str, shown: str) -> None:
    assert plain(raw) == shown


def test_build_progress_prints_markup_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    sink = io.StringIO()
    console = Console(file=sink, force_terminal=False, width=200)
    monkeypatch.setattr(build_cli, "err", console)
    with console.status("building") as status:
        progress = build_cli._progress(status)
        progress('RUN echo "see [/usr/share/doc]" [bold]x[/bold] :smile: \x1b[91mred')
    assert 'RUN echo "see [/usr/share/doc]" [bold]x[/bold] :smile: red' in sink.getvalue()


def test_literal_is_never_markup() -> None:
    sink = io.StringIO()
    Console(file=sink, width=200).print(literal("[/closing] [red]x[/red]", "dim"))
    assert sink.getvalue() == "[/closing] [red]x[/red]\n"
