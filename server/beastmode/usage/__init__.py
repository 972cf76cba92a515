"""Usage monitoring: one row per model attempt, written off the request path, and reports."""

from beastmode.usage.recorder import UsageRecorder, UsageRow
from beastmode.usage.report import UsageReport, build_report

__all__ = ["UsageRecorder", "UsageReport", "UsageRow", "build_report"]
