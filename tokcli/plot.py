"""Charts for ``compare --plot``: grouped horizontal bars, drawn as plain SVG (no GUI, no extra library).

Two panels: the token premium per language per tokenizer (parallel corpora), and bytes per token per
corpus per tokenizer. ``.svg`` is written as is, ``.html`` wraps the SVG in a page, and ``.png`` is
rendered with matplotlib's Agg backend when matplotlib is installed (``pip install matplotlib``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from tokcli.errors import UsageError
from tokcli.files import atomic_write

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
BAR = 9  # pixels per bar
GAP = 6  # pixels between groups
LABEL_W = 120
PLOT_W = 460


def _panel(
    title: str,
    groups: Sequence[str],
    series: Sequence[str],
    values: Mapping[tuple[str, str], float],
    y0: int,
    reference_line: float | None = None,
) -> tuple[list[str], int]:
    finite = [v for v in values.values() if v is not None and math.isfinite(v)]
    top = max([*finite, reference_line or 0.0, 1e-9])
    scale = PLOT_W / (top * 1.08)
    parts = [f'<text x="10" y="{y0 + 16}" font-size="14" font-weight="bold">{escape(title)}</text>']
    y = y0 + 28
    for group in groups:
        group_h = BAR * len(series)
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + group_h / 2 + 4}" font-size="11" text-anchor="end">{escape(group)}</text>'
        )
        for i, name in enumerate(series):
            value = values.get((name, group))
            if value is None or not math.isfinite(value):
                continue
            width = max(value * scale, 0.5)
            color = PALETTE[i % len(PALETTE)]
            parts.append(
                f'<rect x="{LABEL_W}" y="{y + i * BAR}" width="{width:.1f}" height="{BAR - 1}" fill="{color}">'
                f"<title>{escape(name)} / {escape(group)}: {value:.4g}</title></rect>"
            )
        y += group_h + GAP
    if reference_line is not None:
        x = LABEL_W + reference_line * scale
        parts.append(f'<line x1="{x:.1f}" y1="{y0 + 24}" x2="{x:.1f}" y2="{y}" stroke="#555" stroke-dasharray="3,3"/>')
    step = _nice_step(top * 1.08 / 4)
    tick = 0.0
    while tick <= top * 1.08:
        x = LABEL_W + tick * scale
        parts.append(f'<text x="{x:.1f}" y="{y + 12}" font-size="10" text-anchor="middle">{tick:.3g}</text>')
        tick += step
    return parts, y + 24


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at least ``raw`` (readable axis ticks)."""
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), 10 * magnitude)


def chart_svg(rows: Sequence[Mapping[str, Any]]) -> str:
    """An SVG document with the premium and compression panels for ``compare`` rows."""
    tokenizers = list(dict.fromkeys(r["tokenizer"] for r in rows))
    parts: list[str] = []
    y = 10
    premium_rows = [r for r in rows if r.get("premium") is not None]
    if premium_rows:
        languages = sorted(
            {r["corpus"] for r in premium_rows},
            key=lambda c: (
                -max(
                    (r["premium"] for r in premium_rows if r["corpus"] == c and math.isfinite(r["premium"])), default=0
                )
            ),
        )
        values = {(r["tokenizer"], r["corpus"]): float(r["premium"]) for r in premium_rows}
        panel, y = _panel(
            "Token premium vs. reference language (lower is cheaper)", languages, tokenizers, values, y, 1.0
        )
        parts += panel
    corpora = list(dict.fromkeys(r["corpus"] for r in rows if r.get("premium") is None))
    if corpora:
        values = {(r["tokenizer"], r["corpus"]): float(r["bytes_per_token"]) for r in rows if r["corpus"] in corpora}
        panel, y = _panel("Bytes per token (higher compresses better)", corpora, tokenizers, values, y)
        parts += panel
    legend_y = y
    for i, name in enumerate(tokenizers):
        x = 10 + (i % 4) * 150
        yy = legend_y + (i // 4) * 16
        parts.append(f'<rect x="{x}" y="{yy}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{yy + 9}" font-size="11">{escape(name)}</text>')
    height = legend_y + 16 * ((len(tokenizers) + 3) // 4) + 10
    width = LABEL_W + PLOT_W + 40
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n'
    )


def check_plot_path(path: str | Path) -> None:
    """Fail before any work when ``--plot`` cannot be written: unknown type, missing folder, no matplotlib."""
    import importlib.util

    from tokcli.errors import OutputError

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".svg", ".html", ".htm", ".png"):
        raise UsageError(f"--plot {target}: unsupported file type {suffix or '(none)'}", hint="use .svg, .html or .png")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"--plot {target}: folder {folder} does not exist", hint="create it or choose another path")
    if target.exists() and not target.is_file():
        raise OutputError(f"--plot {target}: not a regular file", hint="choose a file path")
    if suffix == ".png" and importlib.util.find_spec("matplotlib") is None:
        raise UsageError(
            f"--plot {target}: PNG output needs matplotlib", hint="pip install matplotlib, or write .svg or .html"
        )


def write_plot(rows: Sequence[Mapping[str, Any]], path: str | Path, *, if_changed: bool = False) -> None:
    """Write the chart to ``path`` (.svg, .html or .png), atomically (``if_changed``: keep an identical file)."""
    target = Path(path)
    suffix = target.suffix.lower()
    check_plot_path(target)
    svg = chart_svg(rows)
    if suffix == ".svg":
        with atomic_write(target, "w", if_changed=if_changed) as handle:
            handle.write(svg)
    elif suffix in (".html", ".htm"):
        with atomic_write(target, "w", if_changed=if_changed) as handle:
            handle.write(
                f"<!doctype html>\n<html><head><meta charset='utf-8'><title>tokcli compare</title></head>"
                f"<body>\n{svg}</body></html>\n"
            )
    else:
        _write_png(rows, target)


def _write_png(rows: Sequence[Mapping[str, Any]], target: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            f"--plot {target}: PNG output needs matplotlib", hint="pip install matplotlib, or write .svg or .html"
        ) from None
    premium_rows = [r for r in rows if r.get("premium") is not None]
    panels = [("premium", premium_rows, "token premium")] if premium_rows else []
    other = [r for r in rows if r.get("premium") is None]
    if other:
        panels.append(("bytes_per_token", other, "bytes per token"))
    tokenizers = list(dict.fromkeys(r["tokenizer"] for r in rows))
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2 + 0.25 * len(rows)), squeeze=False)
    for ax, (key, panel_rows, label) in zip(axes[:, 0], panels, strict=True):
        groups = list(dict.fromkeys(r["corpus"] for r in panel_rows))
        height = 0.8 / max(len(tokenizers), 1)
        for i, name in enumerate(tokenizers):
            vals = {r["corpus"]: r[key] for r in panel_rows if r["tokenizer"] == name}
            ax.barh(
                [g + i * height for g in range(len(groups))],
                [vals.get(g, math.nan) for g in groups],
                height=height,
                label=name,
                color=PALETTE[i % len(PALETTE)],
            )
        ax.set_yticks([g + 0.4 - height / 2 for g in range(len(groups))], groups)
        ax.set_xlabel(label)
        ax.invert_yaxis()
    axes[0, 0].legend()
    fig.tight_layout()
    with atomic_write(target) as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)
