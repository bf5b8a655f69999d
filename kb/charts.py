"""Accessible charts drawn on the server: horizontal bar charts as SVG, always with their data as a table.

A chart is a `BarChart` (a title, labelled bars, optionally split into series such as
organisation types). `bar_chart_svg` draws it as an SVG with a `<title>`, a `<desc>`
and text labels on every bar, so it reads without colour and scales with the page; the
template shows `chart.rows` beside it as a real table for screen readers and for anyone
who wants the numbers. Pure functions: no app, no database.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from markupsafe import Markup

# Colours from the NHS.UK palette with at least 3:1 contrast against white; series are
# also told apart by their order and labels, never by colour alone.
SERIES_COLOURS = ("#005eb8", "#007f3b", "#7c2855", "#ed8b00", "#330072", "#425563", "#ae2573", "#00a499")
BAR_HEIGHT = 24
BAR_GAP = 10
LABEL_WIDTH = 250
PLOT_WIDTH = 260
VALUE_WIDTH = 50
LEGEND_ROW = 22


@dataclass(frozen=True)
class Bar:
    """One labelled bar; `values` has one number per series (one for a plain chart)."""

    label: str
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        """The bar's whole length: the sum of its series."""
        return sum(self.values)


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart: its title, the bars, and the names of its series when stacked."""

    title: str
    bars: tuple[Bar, ...]
    series: tuple[str, ...] = ("Count",)
    unit: str = ""
    """What the numbers count, in the plural ("lessons"); the description says "1 lesson" for one."""
    unit_one: str = ""
    """The unit for a count of one, when it is not the plural without its final "s"."""
    description: str = field(default="")

    def counted(self, number: int) -> str:
        """`number` with the chart's unit agreeing with it: "1 lesson", "2 lessons"; the bare number without a unit."""
        if not self.unit:
            return str(number)
        if number != 1:
            return f"{number} {self.unit}"
        return f"{number} {self.unit_one or self.unit.removesuffix('s')}"

    @property
    def is_empty(self) -> bool:
        """Whether there is nothing to draw (no bars, or every bar zero)."""
        return not any(bar.total for bar in self.bars)

    @property
    def header(self) -> tuple[str, ...]:
        """The data table's column headings: the bar label, each series, and a total when stacked."""
        return ("", *self.series, *(("Total",) if len(self.series) > 1 else ()))

    @property
    def rows(self) -> list[tuple[str, tuple[int, ...]]]:
        """The data table's rows: each bar's label and its numbers (with the total when stacked)."""
        stacked = len(self.series) > 1
        return [(bar.label, (*bar.values, *((bar.total,) if stacked else ()))) for bar in self.bars]


def chart_from_counts(title: str, counts: dict[str, int] | list[tuple[str, int]], *, unit: str = "") -> BarChart:
    """A single-series chart from label-to-count pairs, kept in the order given."""
    pairs = list(counts.items()) if isinstance(counts, dict) else list(counts)
    return BarChart(title, tuple(Bar(label, (count,)) for label, count in pairs), unit=unit)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _describe(chart: BarChart) -> str:
    if chart.description:
        return chart.description
    parts = [f"{bar.label}: {chart.counted(bar.total)}" for bar in chart.bars]
    return f"{chart.title}. " + "; ".join(parts) + "." if parts else f"{chart.title}: no data."


def _legend(chart: BarChart, top: int) -> list[str]:
    if len(chart.series) < 2:
        return []
    parts = []
    for index, name in enumerate(chart.series):
        y = top + index * LEGEND_ROW
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{LABEL_WIDTH + 20}" y="{y + 12}">{_esc(name)}</text>')
    return parts


def _bar_parts(bar: Bar, y: int, scale: float) -> list[str]:
    parts = [f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{_esc(_short(bar.label))}</text>']
    x = float(LABEL_WIDTH)
    for index, value in enumerate(bar.values):
        width = value * scale
        if width > 0:
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{colour}">'
                f"<title>{_esc(bar.label)}: {value}</title></rect>"
            )
        x += width
    parts.append(f'<text x="{x + 6:.1f}" y="{y + 17}">{bar.total}</text>')
    return parts


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart_svg(chart: BarChart, *, chart_id: str) -> Markup:
    """Draw `chart` as SVG markup with role="img", a title and a description naming every value.

    `chart_id` makes the ids of the title and description unique on the page. Labels
    longer than 28 characters are shortened in the drawing; the table keeps them whole.
    """
    chart_id = _esc(chart_id)
    largest = max((bar.total for bar in chart.bars), default=0)
    scale = PLOT_WIDTH / largest if largest else 0.0
    step = BAR_HEIGHT + BAR_GAP
    bars_height = len(chart.bars) * step
    legend_height = LEGEND_ROW * len(chart.series) if len(chart.series) > 1 else 0
    height = max(bars_height + legend_height + BAR_GAP, step)
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kb-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{chart_id}-title {chart_id}-desc" font-size="16" '
        f'font-family="Frutiger W01, Arial, sans-serif" fill="#212b32">',
        f'<title id="{chart_id}-title">{_esc(chart.title)}</title>',
        f'<desc id="{chart_id}-desc">{_esc(_describe(chart))}</desc>',
    ]
    for index, bar in enumerate(chart.bars):
        parts.extend(_bar_parts(bar, index * step + BAR_GAP // 2, scale))
    parts.extend(_legend(chart, bars_height + BAR_GAP))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through _esc
