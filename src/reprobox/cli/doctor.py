from __future__ import annotations

import click
from rich.markup import escape

from reprobox.cli.common import engine_from, guarded, out, plain, print_json
from reprobox.doctor import Check, DoctorReport, Status, diagnose
from reprobox.exitcodes import ExitCode

_MARK = {Status.OK: "[green]ok  [/]", Status.WARN: "[yellow]warn[/]", Status.FAIL: "[red]FAIL[/]"}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--backend",
    type=click.Choice(["engine", "oci"]),
    default="engine",
    show_default=True,
    help="'oci': can the daemonless backend run here, and why not (no engine needed).",
)
@click.pass_context
@guarded
def doctor(ctx: click.Context, as_json: bool, backend: str) -> None:
    """Check that the container engine is really up, and how it isolates containers."""
    from reprobox.oci import doctor as oci

    facts = oci.gather()
    if backend == "oci":
        _oci_report(ctx, oci.checks(facts), as_json)
        return
    report = diagnose(engine_from(ctx), oci=oci.summary(facts))
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


def _oci_report(ctx: click.Context, checks: tuple[Check, ...], as_json: bool) -> None:
    healthy = all(c.status is not Status.FAIL for c in checks)
    if as_json:
        print_json({"backend": "oci", "healthy": healthy, "checks": checks})
    else:
        render_checks(checks)
    ctx.exit(int(ExitCode.OK if healthy else ExitCode.COULD_NOT_RUN))


def render(report: DoctorReport) -> None:
    render_checks(report.checks)


def render_checks(checks: tuple[Check, ...]) -> None:
    for check in checks:
        out.print(f"{_MARK[check.status]}  {check.name:<11} {escape(plain(check.detail))}")
        if check.hint:
            out.print(f"      {'':<11} [dim]hint: {escape(plain(check.hint))}[/]")
