"""Rows of the results table, their targets, and the Markdown / JSON writers."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Target:
    """A bound on one column of a row: ``on`` is 'ratio' or 'ours' (an absolute value)."""

    text: str
    lo: float = -math.inf
    hi: float = math.inf
    on: str = "ratio"

    def check(self, row: Row) -> str:
        v = row.ratio if self.on == "ratio" else row.ours
        if v is None or not math.isfinite(v):
            return "n/a"
        return "pass" if self.lo <= v <= self.hi else "miss"


def at_most(x: float, on: str = "ratio", unit: str = "") -> Target:
    return Target(f"≤ {x:g}{unit}", hi=x, on=on)


FLAT = Target("0.95–1.05 (flat ±5 %)", lo=0.95, hi=1.05)
TREES_40X = Target("≤ 0.025 (≥ 40× trees/s)", hi=1 / 40)


@dataclass
class Row:
    """One measured comparison. ``ratio`` = ours / ref (time: < 1 means ours is faster)."""

    group: str
    workload: str
    reference: str
    threads: str
    dtype: str
    unit: str
    ours: float | None
    ref: float | None = None
    ratio: float | None = None
    target: Target | None = None
    note: str = ""

    @property
    def result(self) -> str:
        return "—" if self.target is None else self.target.check(self)

    def to_dict(self) -> dict:
        d = asdict(self)  # the target becomes {text, lo, hi, on}; infinite bounds None
        if d["target"] is not None:
            d["target"] = {k: _finite(v) for k, v in d["target"].items()}
        d["result"] = self.result
        return {k: _finite(v) for k, v in d.items()}


def _finite(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def skipped(group: str, workload: str, why: str) -> Row:
    return Row(group, workload, "—", "—", "—", "", None, note=f"skipped: {why}")


def _num(v: float | None, unit: str = "") -> str:
    if v is None:
        return "—"
    if unit == "ms" and v >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


COLUMNS = ("workload", "reference", "threads", "dtype", "ours", "reference value", "ratio",
           "target", "result", "note")


def _cells(r: Row) -> list[str]:
    unit = f" {r.unit}" if r.unit else ""
    return [r.workload, r.reference, r.threads, r.dtype,
            _num(r.ours, r.unit) + (unit if r.ours is not None else ""),
            _num(r.ref, r.unit) + (unit if r.ref is not None else ""),
            _num(r.ratio), r.target.text if r.target else "—", r.result, r.note.replace("|", "/")]


def markdown(rows: list[Row], header: list[str]) -> str:
    """One table per group, in the order the groups first appear."""
    results = [r.result for r in rows]
    lines = ["# Benchmark results", ""] + header + ["",
             f"Targets: {results.count('pass')} pass, {results.count('miss')} miss."]
    for group in dict.fromkeys(r.group for r in rows):
        lines += ["", f"## {group}", "", "| " + " | ".join(COLUMNS) + " |",
                  "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows if r.group == group]
    return "\n".join(lines) + "\n"


def to_json(rows: list[Row], meta: dict) -> str:
    return json.dumps({"meta": meta, "rows": [r.to_dict() for r in rows]}, indent=1,
                      ensure_ascii=False)


def from_dicts(items: list[dict]) -> list[Row]:
    """Rows back from ``to_dict`` form (the 1-thread child process sends them as JSON)."""
    out = []
    for d in items:
        d = {k: v for k, v in d.items() if k != "result"}
        t = d["target"]
        if t is not None:
            d["target"] = Target(t["text"], -math.inf if t["lo"] is None else t["lo"],
                                 math.inf if t["hi"] is None else t["hi"], t["on"])
        out.append(Row(**d))
    return out
