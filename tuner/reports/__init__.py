"""Self-contained HTML reports (plotly.js embedded once, no CDN: they open offline)."""

from __future__ import annotations

from tuner.reports.run import render_run_report, write_run_report
from tuner.reports.similarities import render_report, report_sections

__all__ = ["render_report", "render_run_report", "report_sections", "write_run_report"]
