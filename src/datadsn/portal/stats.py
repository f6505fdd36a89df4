"""Public statistics: counts by state, share answered, response and decision times."""

from __future__ import annotations

import math
from typing import Any

from django.utils import timezone

from .models import OPEN_STATES, AccessRequest, State


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (same definition as numpy's default)."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def compute() -> dict[str, Any]:
    # A draft withdrawn before submission was never a request of the service.
    reqs = list(
        AccessRequest.objects.exclude(state=State.DRAFT).exclude(
            state=State.WITHDRAWN, submitted_at=None
        )
    )
    counts = {label: 0 for value, label in State.choices if value != State.DRAFT}
    for r in reqs:
        counts[r.get_state_display()] += 1
    first: list[float] = []
    decision: list[float] = []
    for r in reqs:
        if r.submitted_at and r.first_response_at:
            first.append((r.first_response_at - r.submitted_at).total_seconds() / 86400)
        if r.submitted_at and r.decided_at:
            decision.append((r.decided_at - r.submitted_at).total_seconds() / 86400)
    answered = sum(1 for r in reqs if r.first_response_at)
    decided = sum(1 for r in reqs if r.decided_at)
    now = timezone.now()
    overdue = sum(1 for r in reqs if r.state in OPEN_STATES and (r.clock_days_left(now) or 0) < 0)

    def days(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f}".replace(".", ",")

    from .deliveries import first_delivery_days

    served = first_delivery_days()
    total = len(reqs)
    return {
        "served": len(served),
        "serve_median": days(percentile(served, 0.5)),
        "serve_p90": days(percentile(served, 0.9)),
        "total": total,
        "counts": counts,
        "answered": answered,
        "decided": decided,
        "share_answered": None if not total else round(100 * answered / total),
        "share_decided": None if not total else round(100 * decided / total),
        "first_median": days(percentile(first, 0.5)),
        "first_p90": days(percentile(first, 0.9)),
        "decision_median": days(percentile(decision, 0.5)),
        "decision_p90": days(percentile(decision, 0.9)),
        "overdue": overdue,
        "raw": {"first": first, "decision": decision, "serve": served},
    }


STATS_CACHE_SECONDS = 60


def cached() -> dict[str, Any]:
    """The figures shown on the home and statistics pages, recomputed at most once a minute per
    server process (they read every request and delivery: the home page is the busiest page)."""
    from django.core.cache import cache

    figures: dict[str, Any] = cache.get_or_set("portal:stats", compute, STATS_CACHE_SECONDS)
    return figures
