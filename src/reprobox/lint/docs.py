"""Rule pages, generated from the rule modules' metadata (so docs cannot drift).

``python -m reprobox.lint.docs --write docs/rules`` writes one ``RBXnnnn.md`` per rule;
``--check docs/rules`` exits 1 when a checked-in page differs. ``reprobox rules ID`` prints the
same page from the installed package, no repository needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reprobox.lint.rules import RULES
from reprobox.lint.rules.interface import RuleMeta


def _block(text: str, files: tuple[tuple[str, str], ...] = ()) -> str:
    blocks = [f"```dockerfile\n{text}\n```"]
    blocks.extend(
        f"With the file `{path}`:\n\n```text\n{content.rstrip()}\n```" for path, content in files
    )
    return "\n\n".join(blocks)


def render_page(meta: RuleMeta) -> str:
    """The Markdown page of one rule."""
    return "\n".join(
        [
            f"# {meta.id}: {meta.title}",
            "",
            f"- Category: {meta.category.value}",
            f"- Default severity: {meta.severity.value}",
            "",
            "## Why",
            "",
            meta.rationale,
            "",
            "## Bad",
            "",
            _block(meta.bad, meta.bad_files),
            "",
            "## Good",
            "",
            _block(meta.good, meta.good_files),
            "",
            "## Fix",
            "",
            meta.fix[0].upper() + meta.fix[1:] + ".",
            "",
            "## Exceptions",
            "",
            meta.exceptions,
            "",
            "## Silencing",
            "",
            f"`# reprobox: ignore={meta.id} (reason)` on the line before the instruction, "
            f"`# reprobox: ignore-file={meta.id} (reason)` anywhere in the file, "
            f'`--ignore {meta.id}`, or `ignore = ["{meta.id}"]` in `[tool.reprobox.lint]`.',
            "",
        ]
    )


def catalog_table() -> str:
    """A Markdown table of every rule (used in docs/lint.md)."""
    rows = ["| ID | Category | Severity | Rule |", "|---|---|---|---|"]
    for rule in RULES:
        m = rule.meta
        rows.append(
            f"| [{m.id}](rules/{m.id}.md) | {m.category.value} | {m.severity.value} | {m.title} |"
        )
    return "\n".join(rows) + "\n"


def pages() -> dict[str, str]:
    """File name -> page text, for every rule."""
    return {f"{rule.meta.id}.md": render_page(rule.meta) for rule in RULES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reprobox.lint.docs")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="write the pages into this folder")
    group.add_argument("--check", type=Path, help="exit 1 if a page in this folder differs")
    group.add_argument("--catalog", action="store_true", help="print the catalog table")
    args = parser.parse_args(argv)
    if args.catalog:
        print(catalog_table(), end="")
        return 0
    folder: Path = args.write or args.check
    stale = [n for n, t in pages().items() if _read(folder / n) != t]
    if args.check:
        for name in stale:
            print(f"stale: {folder / name}")
        return 1 if stale else 0
    folder.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (folder / name).write_text(pages()[name], encoding="utf-8")
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
