"""The report as Markdown: pipe tables, and each chart an SVG file beside it, linked relatively.

``report.md`` gets its charts in ``report_charts/`` (``figure-1-overview.svg`` …),
so the pair can be committed to a repository or published by a static site as is.
"""

from __future__ import annotations

from pathlib import Path

from teiten.report.compose import Document, Figure, Paragraph, Table

__all__ = ["charts_dir", "render_markdown"]


def charts_dir(out: Path) -> Path:
    """Where the charts of the Markdown file ``out`` are written."""
    return out.with_name(f"{out.stem}_charts")


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> list[str]:
    lines = [f"**{_cell(table.caption)}**", ""]
    lines.append("| " + " | ".join(_cell(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in table.numeric) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(c.text) for c in row) + " |")
    return [*lines, ""]


def render_markdown(doc: Document, out: Path) -> tuple[str, dict[Path, str]]:
    """The Markdown text of ``doc`` for the file ``out``, and the chart files it links."""
    charts = charts_dir(out)
    files: dict[Path, str] = {}
    marking = [f"**{doc.marking}**", ""] if doc.marking else []
    lines = [*marking, f"# {doc.title}", "", doc.period_line, ""]
    for number, section in enumerate(doc.sections, 1):
        lines += [f"## {number}. {section.heading}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                if block.heading:
                    lines += [f"### {block.heading}", ""]
                if block.text:
                    lines += [block.text, ""]
                if block.items:
                    lines += [f"- {item}" for item in block.items] + [""]
            elif isinstance(block, Table):
                lines += _table(block)
            elif isinstance(block, Figure):
                path = charts / f"{block.id}-{block.name}.svg"
                files[path] = block.svg
                link = f"{charts.name}/{path.name}"
                lines += [f"![{_cell(block.caption)}]({link})", "", f"*{block.caption}*", ""]
    lines += ["---", ""]
    for line in doc.colophon:
        lines += [line, ""]
    lines += [doc.generated, "", *marking]
    return "\n".join(lines), files
