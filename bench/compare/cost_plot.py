#!/usr/bin/env python3
"""Draws what bench/compare/cost.sh measured: one SVG with two log-log panels, wall time and
peak RSS against the number of objects, a line per tool and operation (the median of the rounds
at each size). With --table, also prints the medians and the growth ratios as Markdown.

    cost_plot.py COST_CSV OUT_SVG [--table]

COST_CSV has the columns objects,operation,tool,round,seconds,peak_rss_kib[,cpu_seconds] (the
client's user + system time; older files lack it). Standard library
only: the SVG is written by hand.
"""
import csv
import math
import statistics
import sys
from collections import defaultdict

OPS = [
    ("ls", "ls --recursive", "#1f77b4"),
    ("sync-noop", "sync, nothing to do", "#2ca02c"),
    ("sync-1pct", "sync, 1% changed", "#ff7f0e"),
    ("rm", "rm --recursive", "#d62728"),
]
TOOLS = [("cirrus", "cirrus", ""), ("aws", "AWS CLI v2", "7,5"), ("rclone", "rclone", "2,3"),
         ("s3sync", "s3sync", "10,3,2,3")]
W, H = 480, 360  # one panel
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50


def medians(path):
    """{(operation, tool): {objects: (median seconds, median peak RSS MiB, rounds, median CPU
    seconds or None)}}"""
    runs = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["operation"], row["tool"], int(row["objects"]))
            cpu = row.get("cpu_seconds")
            runs[key].append((float(row["seconds"]), int(row["peak_rss_kib"]) / 1024, float(cpu) if cpu else None))
    out = defaultdict(dict)
    for (op, tool, n), rs in runs.items():
        cpus = [c for _, _, c in rs if c is not None]
        cpu = statistics.median(cpus) if cpus else None
        out[(op, tool)][n] = (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs), len(rs), cpu)
    return out


def log_ticks(lo, hi):
    """Powers of ten and their 2x and 5x between lo and hi (both > 0)."""
    ticks = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10**e
            if lo <= v <= hi:
                ticks.append(v)
    return ticks


def label(v):
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:g}"
    return f"{v:.2g}"


def panel(x0, title, unit, series, column, guide=False):
    """The SVG of one panel at x offset x0: series is {(op, tool): {n: values}}; with guide, a
    grey dotted line of slope 1 (cost proportional to the objects) from the lowest first point."""
    xs = sorted({n for pts in series.values() for n in pts})
    ys = [pts[n][column] for pts in series.values() for n in pts]
    if not xs or not ys:
        return []
    xlo, xhi = min(xs) / 1.3, max(xs) * 1.3
    if guide and len(xs) > 1:
        ys.append(min(pts[xs[0]][column] for pts in series.values() if xs[0] in pts) * xs[-1] / xs[0])
    ylo, yhi = min(ys) / 1.5, max(ys) * 1.5
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(v):
        return x0 + LEFT + (math.log10(v) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo)) * pw

    def py(v):
        return TOP + ph - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)) * ph

    svg = [f'<text x="{x0 + LEFT + pw / 2}" y="22" text-anchor="middle" font-size="15">{title}</text>']
    svg.append(f'<rect x="{x0 + LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    for v in xs:
        x = px(v)
        svg.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#ddd"/>')
        svg.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" text-anchor="middle" font-size="11">{label(v)}</text>')
    for v in log_ticks(ylo, yhi):
        y = py(v)
        svg.append(f'<line x1="{x0 + LEFT}" y1="{y:.1f}" x2="{x0 + LEFT + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{x0 + LEFT - 5}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{label(v)}</text>')
    svg.append(f'<text x="{x0 + LEFT + pw / 2}" y="{H - 12}" text-anchor="middle" font-size="12">objects (log)</text>')
    svg.append(
        f'<text x="{x0 + 16}" y="{TOP + ph / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 {x0 + 16} {TOP + ph / 2})">{unit} (log)</text>'
    )
    if guide and len(xs) > 1:
        y0 = min(pts[xs[0]][column] for pts in series.values() if xs[0] in pts)
        y1 = y0 * xs[-1] / xs[0]
        svg.append(
            f'<line x1="{px(xs[0]):.1f}" y1="{py(y0):.1f}" x2="{px(xs[-1]):.1f}" y2="{py(y1):.1f}" '
            f'stroke="#999" stroke-width="1.5" stroke-dasharray="2,4"/>'
        )
    for op, _, colour in OPS:
        for tool, _, dash in TOOLS:
            pts = series.get((op, tool))
            if not pts:
                continue
            coords = " ".join(f"{px(n):.1f},{py(pts[n][column]):.1f}" for n in sorted(pts))
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            svg.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dashes}/>')
            for n in sorted(pts):
                svg.append(f'<circle cx="{px(n):.1f}" cy="{py(pts[n][column]):.1f}" r="3" fill="{colour}"/>')
    return svg


def legend(y0, tools):
    svg = []
    x = LEFT
    for op, name, colour in OPS:
        svg.append(f'<line x1="{x}" y1="{y0}" x2="{x + 24}" y2="{y0}" stroke="{colour}" stroke-width="3"/>')
        svg.append(f'<text x="{x + 30}" y="{y0 + 4}" font-size="12">{name}</text>')
        x += 190
    x = LEFT
    for _, name, dash in tools:
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        svg.append(f'<line x1="{x}" y1="{y0 + 20}" x2="{x + 24}" y2="{y0 + 20}" stroke="#333" stroke-width="2"{dashes}/>')
        svg.append(f'<text x="{x + 30}" y="{y0 + 24}" font-size="12">{name}</text>')
        x += 130
    svg.append(f'<line x1="{x}" y1="{y0 + 20}" x2="{x + 24}" y2="{y0 + 20}" stroke="#999" stroke-width="1.5" stroke-dasharray="2,4"/>')
    svg.append(f'<text x="{x + 30}" y="{y0 + 24}" font-size="12">linear (time proportional to objects)</text>')
    return svg


def present(series):
    """The tools of TOOLS that have a point in series, in TOOLS's order."""
    return [t for t in TOOLS if any(tool == t[0] for _, tool in series)]


def svg_text(series):
    width, height = 2 * W, H + 50
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    body += panel(0, "Wall time (median)", "seconds", series, 0, guide=True)
    body += panel(W, "Peak RSS (median)", "MiB", series, 1)
    body += legend(H + 12, present(series))
    body.append("</svg>")
    return "\n".join(body) + "\n"


def table(series):
    """Medians per operation and size (each peer's time with its ratio to cirrus's: above 1,
    cirrus was faster), then the growth ratios, as Markdown."""
    sizes = sorted({n for pts in series.values() for n in pts})
    tools = present(series)
    names = [name for _, name, _ in tools]
    lines = [
        "| operation | objects | " + " | ".join(names) + " | peak RSS (MiB): " + " / ".join(names)
        + " | client CPU (s): " + " / ".join(names) + " |",
        "| --- | --- |" + " --- |" * (len(tools) + 2),
    ]
    for op, name, _ in OPS:
        pts = [series.get((op, tool), {}) for tool, _, _ in tools]
        c = series.get((op, "cirrus"), {})
        for n in sizes:
            if not any(n in p for p in pts):
                continue
            cells = []
            for (tool, _, _), p in zip(tools, pts):
                if n not in p:
                    cells.append("-")
                elif tool == "cirrus":
                    cells.append(f"**{p[n][0]:.2f} s**")
                else:
                    cell = f"{p[n][0]:.2f} s"
                    if n in c:
                        cell += f" ({p[n][0] / c[n][0]:.1f}x)"
                    if n in c and p[n][2] < c[n][2]:
                        cell += f", {p[n][2]} run{'s' if p[n][2] > 1 else ''}"
                    cells.append(cell)
            rss = " / ".join(f"{p[n][1]:.0f}" if n in p else "-" for p in pts)
            cpu = " / ".join(f"{p[n][3]:.2f}" if n in p and p[n][3] is not None else "-" for p in pts)
            lines.append(f"| {name} | {n:,} | " + " | ".join(cells) + f" | {rss} | {cpu} |")
    if len(sizes) < 2:
        return "\n".join(lines)
    lines += ["", "| operation | tool | " + " | ".join(f"time {b:,} / {a:,}" for a, b in zip(sizes, sizes[1:])) + " |"]
    lines.append("| --- | --- |" + " --- |" * (len(sizes) - 1))
    for op, name, _ in OPS:
        for tool, tname, _ in tools:
            pts = series.get((op, tool), {})
            if not pts:
                continue
            cells = [f"{pts[b][0] / pts[a][0]:.1f}x" if a in pts and b in pts else "-" for a, b in zip(sizes, sizes[1:])]
            lines.append(f"| {name} | {tname} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    args = [a for a in sys.argv[1:] if a != "--table"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    series = medians(args[0])
    with open(args[1], "w") as f:
        f.write(svg_text(series))
    if "--table" in sys.argv[1:]:
        print(table(series))
    return 0


if __name__ == "__main__":
    sys.exit(main())
