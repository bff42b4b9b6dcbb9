"""Pure formatters for verify's report: text for people, JSON (``schema_version``) for tools."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from reprobox.build.compare import PathDifference
from reprobox.build.verify import VerifyReport

STEP_WIDTH = 70


def _short(text: str, width: int = STEP_WIDTH) -> str:
    text = text.removeprefix("/bin/sh -c ").removeprefix("#(nop) ").strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(report: VerifyReport) -> str:
    """The verdict and every difference, one path per line with its likely cause."""
    a, b = report.image_ids
    head = "identical" if report.identical else "DIFFERENT"
    lines = [
        f"verify: {head} ({report.seconds:.0f} s, SOURCE_DATE_EPOCH={report.source_date_epoch})",
        f"  first build   {a}",
        f"  second build  {b}",
    ]
    if report.layer_counts[0] != report.layer_counts[1]:
        lines.append(f"  new layers: {report.layer_counts[0]} vs {report.layer_counts[1]}")
    if report.config:
        lines.append("config:")
        for diff in report.config:
            lines += [f"  {diff.field}: {diff.first} | {diff.second}", f"    cause: {diff.cause}"]
    for (layer, step), group in groupby(report.paths, key=lambda d: (d.layer, d.step)):
        lines.append(f"layer {layer} ({_short(step)}):")
        lines += [line for diff in group for line in _path_lines(diff)]
    if report.diffoscope_note:
        lines.append(report.diffoscope_note)
    for output in report.diffoscope:
        lines += [f"--- diffoscope /{output.path}", output.text.rstrip()]
    return "\n".join(lines)


def _path_lines(diff: PathDifference) -> list[str]:
    kinds = ", ".join(str(k) for k in diff.kinds)
    return [
        f"  /{diff.path}  [{kinds}]  {diff.first} | {diff.second}",
        f"    cause: {diff.cause}",
    ]


def to_json(report: VerifyReport) -> dict[str, Any]:
    """The report as plain JSON values (the schema is documented in docs/build.md)."""
    return {
        "schema_version": report.schema_version,
        "identical": report.identical,
        "image_ids": list(report.image_ids),
        "source_date_epoch": report.source_date_epoch,
        "seconds": round(report.seconds, 2),
        "new_layers": list(report.layer_counts),
        "config": [
            {"field": d.field, "first": d.first, "second": d.second, "cause": str(d.cause)}
            for d in report.config
        ],
        "paths": [
            {
                "layer": d.layer,
                "step": d.step,
                "path": "/" + d.path,
                "differs": [str(k) for k in d.kinds],
                "first": d.first,
                "second": d.second,
                "cause": str(d.cause),
            }
            for d in report.paths
        ],
        "diffoscope": [{"path": "/" + o.path, "text": o.text} for o in report.diffoscope],
        "diffoscope_note": report.diffoscope_note,
    }
