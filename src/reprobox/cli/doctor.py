from __future__ import annotations

import click
from rich.markup import escape

from reprobox.cli.common import engine_from, guarded, out, plain, print_json
from reprobox.doctor import DoctorReport, Status, diagnose
from reprobox.exitcodes import ExitCode

_MARK = {Status.OK: "[green]ok  [/]", Status.WARN: "[yellow]warn[/]", Status.FAIL: "[red]FAIL[/]"}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@guarded
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check that the container engine is really up, and how it isolates containers."""
    report = diagnose(engine_from(ctx))
    if as_json:
        print_json(
            {
                "url": report.url,
                "healthy": report.healthy,
                "info": report.info,
                "checks": report.checks,
            }
        )
    else:
        render(report)
    ctx.exit(int(ExitCode.OK if report.healthy else ExitCode.COULD_NOT_RUN))


def render(report: DoctorReport) -> None:
    for check in report.checks:
        out.print(f"{_MARK[check.status]}  {check.name:<11} {escape(plain(check.detail))}")
        if check.hint:
            out.print(f"      {'':<11} [dim]hint: {escape(plain(check.hint))}[/]")
