"""Charts drawn on the server as SVG: they work offline, without JavaScript, and scale from a phone to a laptop.

Each chart has a title and a text alternative (``<title>``/``<desc>`` with the figures), so screen readers and
text browsers get the numbers too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#2b6cb0", "#38a169", "#d69e2e", "#c53030", "#805ad5", "#319795", "#dd6b20", "#718096")
# Colours that mean the same on every chart; other series take the palette in turn.
MEANING = {"accepted": "#38a169", "converted": "#2f855a", "complained": "#c53030", "dismissed": "#d69e2e",
           "ignored": "#a0aec0", "act": "#2b6cb0", "deferred": "#d69e2e", "nothing_now": "#cbd5e0",
           "dropped": "#c53030", "executed": "#38a169", "cancelled": "#d69e2e", "failed": "#c53030",
           "dead": "#c53030", "delivered": "#38a169", "acknowledged": "#2f855a", "pending": "#2b6cb0"}  # fmt: skip
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 200, 36, 22, 8


def stacked_bars(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]]) -> Markup:
    """One bar per label (a day), stacked by series (a status); with a legend and a text summary."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max([*totals, 1])
    plot_w, plot_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(labels), 1)
    parts = [_axis(top, plot_h)]
    for i, label in enumerate(labels):
        y: float = PAD_TOP + plot_h
        for name, values in series.items():
            color = colour(name, list(series).index(name))
            h = values[i] / top * plot_h
            if h > 0:
                y -= h
                parts.append(f'<rect x="{PAD_LEFT + i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                             f'height="{h:.1f}" fill="{color}"><title>{escape(label)} {escape(name)}: {values[i]}'
                             "</title></rect>")  # fmt: skip
        if i % max(len(labels) // 7, 1) == 0:
            parts.append(
                f'<text x="{PAD_LEFT + i * step:.1f}" y="{HEIGHT - 6}" font-size="10">{escape(label[5:])}</text>'
            )
    summary = "; ".join(f"{name}: {sum(values)}" for name, values in series.items()) or "nothing yet"
    return _svg(title, f"Totals over the period: {summary}.", parts, _legend(series))


def bars(title: str, values: Mapping[str, int | float]) -> Markup:
    """Horizontal bars, one per key (a status, a channel), with the value written beside each."""
    rows = list(values.items())
    top = max([v for _, v in rows] + [1])
    height = 22 * max(len(rows), 1) + 8
    parts = []
    for i, (name, value) in enumerate(rows):
        y = 4 + i * 22
        w = value / top * (WIDTH - 260)
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(str(name))}</text>'
                     f'<rect x="140" y="{y}" width="{w:.1f}" height="16" fill="{colour(str(name), i)}"/>'
                     f'<text x="{146 + w:.1f}" y="{y + 13}" font-size="12">{value:,}</text>')  # fmt: skip
    summary = "; ".join(f"{name}: {value}" for name, value in rows) or "nothing yet"
    return _svg(title, summary, parts, "", height)


def colour(name: str, index: int) -> str:
    return MEANING.get(name, PALETTE[index % len(PALETTE)])


def _axis(top: int, plot_h: float) -> str:
    y0 = PAD_TOP + plot_h
    return (f'<line x1="{PAD_LEFT}" y1="{y0}" x2="{WIDTH}" y2="{y0}" stroke="#999"/>'
            f'<text x="0" y="{PAD_TOP + 10}" font-size="10">{top}</text>'
            f'<text x="0" y="{y0}" font-size="10">0</text>')  # fmt: skip


def _legend(series: Mapping[str, Sequence[int]]) -> str:
    items = "".join(f'<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect width="10" height="10" fill="{colour(name, i)}"/></svg>{escape(name)}</li>'
                    for i, name in enumerate(series))  # fmt: skip
    return f'<ul class="legend">{items}</ul>'


def _svg(title: str, desc: str, parts: list[str], after: str, height: int = HEIGHT) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{body}</svg>{after}</figure>"
    )
