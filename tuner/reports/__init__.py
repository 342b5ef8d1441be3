"""Self-contained HTML reports (plotly.js embedded once, no CDN: they open offline)."""

from __future__ import annotations

from tuner.reports.similarities import render_report

__all__ = ["render_report"]
