"""``reprobox pin``'s text output (pure): what was pinned, what could not be, a summary."""

from __future__ import annotations

from reprobox.pin.runner import FileReport, Pinned, PinReport


def render(report: PinReport) -> tuple[list[str], list[str]]:
    """``(stdout lines, stderr lines)`` for ``report``."""
    out: list[str] = []
    err: list[str] = []
    for file in report.files:
        out += [_pinned(file.path, pin, report.check) for pin in file.pinned]
        out += [f"{file.path}: not pinned, {reason}" for reason in file.skipped]
        err += [f"error: {file.path}:{p.line}: {p.message}" for p in file.problems]
        if file.problems and file.pinned and not report.check:
            err.append(f"{file.path}: left unchanged (fix the errors above, then run it again)")
    out.append(_summary(report))
    return out, err


def _pinned(path: str, pin: Pinned, check: bool) -> str:
    where = "" if pin.via == "FROM" else f" (in {pin.via})"
    if check:
        return f"{path}:{pin.line}: {pin.image} is not pinned by digest{where}: {pin.digest}"
    return f"{path}:{pin.line}: {pin.image} -> @{pin.digest}{where}"


def _summary(report: PinReport) -> str:
    files = report.files
    verified = sum(len(f.verified) for f in files)
    kept = f"{_count(verified, 'base image')} already pinned and verified"
    failed = sum(len(f.problems) for f in files)
    if failed:
        untouched = [f for f in files if f.problems]
        left = "" if report.check else f"; {_count(len(untouched), 'file')} left unchanged"
        return f"{_count(failed, 'base image')} could not be pinned or verified{left}"
    if report.check:
        pending = sum(len(f.pinned) for f in files)
        if pending:
            return (
                f"{_count(pending, 'base image')} not pinned by digest; {kept}; "
                "run reprobox pin to pin them"
            )
        return f"nothing to pin: {kept}"
    written: list[FileReport] = [f for f in files if f.written]
    if written:
        pins = sum(len(f.pinned) for f in written)
        return f"pinned {_count(pins, 'base image')} in {_count(len(written), 'file')}; {kept}"
    return f"nothing pinned: {kept}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
