"""Charts as server-rendered inline SVG: no script, nothing inline the CSP would refuse.

    line_chart({"绿电": [0, 2, 5]}, ["4/7", "4/14", "4/21"], {"绿电": [url, url, url]})
    sparkline([0, 2, 5], "绿电：近 3 周")

Every text and link is escaped here; the result is Markup to drop into a template as is. Colours
and sizes are SVG presentation attributes (the CSP's style-src governs style attributes and
<style>, not these), so a chart reads right on any page; static/charts.css adds focus and hover
looks under the classes used here.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

# The drawing area, in SVG user units. The chart scales to the width of its container (CSS:
# svg.chart { width: 100%; height: auto }, at most 40rem wide): a phone shows the text at about
# 85% of its size here, a desktop at 160%.
WIDTH = 400
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 34, 12, 12, 26
PLOT_HEIGHT = 180
LEGEND_ROW = 20
# Okabe–Ito, told apart with most colour blindness too (yellow swapped for wine: readable on
# white); series-0 … series-7 in charts.css, then they repeat.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#1f2328",
           "#882255")
COLOURS = len(PALETTE)


def _ticks(top: int) -> list[int]:
    """Round y-axis values from 0 to at least `top`, at most six of them."""
    top = max(top, 1)
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if math.ceil(top / step) <= 5:
            break
    else:
        step = 10 ** math.ceil(math.log10(top / 5))
    return list(range(0, step * math.ceil(top / step) + 1, step))


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def line_chart(series: dict[str, list[int]], labels: list[str],
               links: dict[str, list[str]]) -> Markup:
    """A line chart: one line per series (keys are what the legend shows), one point per label,
    each point a link (links[name][i]; an empty or missing link leaves the point plain)."""
    n = len(labels)
    names = list(series)
    legend_rows = math.ceil(len(names) / 3) if names else 0  # three names a row
    legend_height = legend_rows * LEGEND_ROW + (6 if names else 0)
    top_y = PAD_TOP + legend_height
    height = top_y + PLOT_HEIGHT + PAD_BOTTOM
    left, right = PAD_LEFT, WIDTH - PAD_RIGHT
    bottom = top_y + PLOT_HEIGHT
    ticks = _ticks(max((v for values in series.values() for v in values), default=0))
    y_max = ticks[-1]

    def x(i: int) -> float:
        return left + (right - left) * (i + 0.5) / max(n, 1)

    def y(v: int) -> float:
        return bottom - PLOT_HEIGHT * v / y_max

    total = sum(sum(v) for v in series.values())
    # For a screen reader the chart is its summary; its points are links for a pointer only
    # (out of the tab order: a keyboard would meet one per rule and week), and the table
    # under it (`_week_table`) holds the same numbers and links, one tab stop until opened.
    out = [f'<svg class="chart line-chart" viewBox="0 0 {WIDTH} {height}" role="group" '
           f'aria-label="{escape(_summary(series, labels))}" xmlns="http://www.w3.org/2000/svg">',
           f'<title>{escape(_summary(series, labels))}</title><g aria-hidden="true">']
    # Legend: three names a row, each with its colour's swatch.
    for k, name in enumerate(names):
        row, col = divmod(k, 3)
        lx, ly = left + col * ((right - left) / 3), PAD_TOP + row * LEGEND_ROW
        out.append(f'<g class="legend series-{k % COLOURS}" fill="{PALETTE[k % COLOURS]}">'
                   f'<rect x="{_num(lx)}" y="{_num(ly + 3)}" width="14" height="10" rx="2"/>'
                   f'<text x="{_num(lx + 19)}" y="{_num(ly + 12)}" font-size="14" fill="#1f2328">'
                   f"{escape(name)}</text></g>")
    # Grid and y axis.
    out.append('<g class="axis y-axis" font-size="12" text-anchor="end">')
    for t in ticks:
        out.append(f'<line class="grid" x1="{left}" x2="{right}" y1="{_num(y(t))}" '
                   f'y2="{_num(y(t))}" stroke="#d1d9e0" stroke-width="1"/>'
                   f'<text x="{left - 6}" y="{_num(y(t) + 4)}">{t}</text>')
    out.append("</g>")
    # X axis: at most six labels (12 weeks: every second Monday, the last one always), so they
    # do not run into each other on a phone; every point still says its week in its tooltip.
    every = math.ceil(n / 6) if n else 1
    out.append(f'<g class="axis x-axis" font-size="12" text-anchor="middle">'
               f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#59636e"/>')
    for i, label in enumerate(labels):
        if (n - 1 - i) % every == 0:
            out.append(f'<text x="{_num(x(i))}" y="{bottom + 17}">{escape(label)}</text>')
    out.append("</g>")
    # The lines, then their points (links above the lines, so they get the taps).
    for k, name in enumerate(names):
        values = series[name]
        points = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in enumerate(values[:n]))
        out.append(f'<polyline class="line series-{k % COLOURS}" points="{points}" fill="none" '
                   f'stroke="{PALETTE[k % COLOURS]}" stroke-width="2.5" stroke-linejoin="round"/>')
    for k, name in enumerate(names):
        hrefs = links.get(name, [])
        out.append(f'<g class="points series-{k % COLOURS}" fill="{PALETTE[k % COLOURS]}">')
        for i, v in enumerate(series[name][:n]):
            tip = f"{name} · {labels[i]}：{v} 篇"
            dot = (f'<circle class="hit" cx="{_num(x(i))}" cy="{_num(y(v))}" r="13" '
                   f'fill="transparent"/><circle class="dot" cx="{_num(x(i))}" '
                   f'cy="{_num(y(v))}" r="4"/><title>{escape(tip)}</title>')
            href = hrefs[i] if i < len(hrefs) else ""
            if href:
                out.append(f'<a href="{escape(href)}" aria-label="{escape(tip)}" tabindex="-1">{dot}</a>')
            else:
                out.append(f"<g>{dot}</g>")
        out.append("</g>")
    if not total:
        out.append(f'<text class="empty" x="{_num((left + right) / 2)}" '
                   f'y="{_num(top_y + PLOT_HEIGHT / 2)}" text-anchor="middle" font-size="14" '
                   f'fill="#59636e">这段时间还没有命中</text>')
    out.append("</g></svg>")
    return Markup("".join(out)) + _week_table(series, labels, links)


def _week_table(series: dict[str, list[int]], labels: list[str],
                links: dict[str, list[str]]) -> Markup:
    """The chart's numbers as a table, folded under it: a week a row, a rule a column, each
    number linking where its point does."""
    if not series:
        return Markup("")
    names = list(series)
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in names)
    rows = []
    for i, label in enumerate(labels):
        cells = []
        for name in names:
            values, hrefs = series[name], links.get(name, [])
            v = values[i] if i < len(values) else 0
            href = hrefs[i] if i < len(hrefs) else ""
            cells.append(f'<td><a href="{escape(href)}">{v}</a></td>' if href and v
                         else f"<td>{v}</td>")
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{"".join(cells)}</tr>')
    return Markup('<details class="chart-data"><summary>逐周数字</summary>'
                  '<div class="table-scroll" role="region" tabindex="0" aria-label="逐周数字">'
                  f'<table class="fit"><thead><tr><th scope="col">周</th>{head}</tr></thead>'
                  f'<tbody>{"".join(rows)}</tbody></table></div></details>')


def _summary(series: dict[str, list[int]], labels: list[str]) -> str:
    span = f"{labels[0]}–{labels[-1]}" if labels else ""
    parts = [f"{name} {sum(values)} 篇" for name, values in series.items()]
    return f"每周命中文章数 {span}：" + ("，".join(parts) if parts else "无")


def sparkline(values: list[int], title: str) -> Markup:
    """A small trend line (80×20) with its last point dotted; `title` is its tooltip and label."""
    w, h, pad = 80, 20, 2
    top = max(values, default=0) or 1
    n = len(values)

    def x(i: int) -> float:
        return pad + (w - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: int) -> float:
        return h - pad - (h - 2 * pad) * v / top

    out = [f'<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
           f"<title>{escape(title)}</title>"]
    if values:
        points = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in enumerate(values))
        out.append(f'<polyline points="{points}" fill="none" stroke="currentColor" '
                   f'stroke-width="1.5" stroke-linejoin="round"/>')
        out.append(f'<circle cx="{_num(x(n - 1))}" cy="{_num(y(values[-1]))}" r="2" '
                   f'fill="currentColor"/>')
    out.append("</svg>")
    return Markup("".join(out))
