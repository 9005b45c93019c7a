"""The grant benchmark's rows (:mod:`benchmarks.grant_path` says what they measure):
the goal's ratio with 20 ms per AWS call, the diagnostics over bare moto, and the
rounds through the Identity Center stand-in, made of :mod:`benchmarks.grant_rounds`'
samples."""

from __future__ import annotations

from benchmarks.common import Row, paired_ratio_interval, percentile
from benchmarks.grant_path import (
    AWS_LIKE_LATENCY,
    DIRECT_POLL_INTERVAL,
    GOAL,
    NAME,
    STANDIN_OP_SECONDS,
)
from benchmarks.grant_rounds import Paired, Samples


def _p50_p99(values: list[float]) -> str:
    """``"p50 / p99"`` of seconds, as milliseconds."""
    return f"{percentile(values, 50) * 1000:.1f} / {percentile(values, 99) * 1000:.1f}"


def _ratio(got: Paired, metric: str, goal: float | None = None) -> Row:
    """p50 app / p50 direct, with its paired bootstrap interval; against ``goal`` (at
    most) if given."""
    ratio = percentile(got.app, 50) / percentile(got.direct, 50)
    low, high = paired_ratio_interval(got.app, got.direct)
    return Row(
        NAME,
        metric,
        ratio,
        "x",
        f"<= {goal:.2f}" if goal is not None else "",
        ratio <= goal if goal is not None else None,
        note=f"95% interval {low:.3f}-{high:.3f}x, paired bootstrap of the {len(got.app)} rounds",
    )


def rows(got: Samples) -> list[Row]:
    """The grant benchmark's rows: the goal's (20 ms per AWS call), then bare moto's
    and the stand-in's."""
    return _goal_rows(got.slow) + _bare_rows(got) + _standin_rows(got.standin)


def _goal_rows(slow: Paired) -> list[Row]:
    at = f"{AWS_LIKE_LATENCY * 1000:.0f} ms per AWS call"
    n = f"n={len(slow.app)}"
    return [
        Row(
            NAME,
            f"{at}: app, click -> assignment listed, p50",
            percentile(slow.app, 50) * 1000,
            "ms",
            note=n,
        ),
        Row(NAME, f"{at}: app, p95", percentile(slow.app, 95) * 1000, "ms"),
        Row(
            NAME,
            f"{at}: direct boto3, create -> listed, p50",
            percentile(slow.direct, 50) * 1000,
            "ms",
            note=n,
        ),
        Row(NAME, f"{at}: direct boto3, p95", percentile(slow.direct, 95) * 1000, "ms"),
        _ratio(slow, f"{at}: app / direct boto3 (p50)", GOAL),
        Row(
            NAME,
            f"{at}: the bot's added time per grant (app - direct, per round), p50 / p99",
            _p50_p99(slow.added()),
            "ms",
        ),
        _write_row(slow, at),
        Row(
            NAME,
            f"{at}: app, click -> the bot's assign returned / direct, create -> creation "
            "answered, p50",
            f"{percentile(slow.app_assigned, 50) * 1000:.1f} / "
            f"{percentile(slow.direct_answered, 50) * 1000:.1f}",
            "ms",
        ),
        Row(
            NAME,
            f"{at}: from there to listed, app / direct, p50",
            f"{percentile(_listing(slow.app, slow.app_assigned), 50) * 1000:.1f} / "
            f"{percentile(_listing(slow.direct, slow.direct_answered), 50) * 1000:.1f}",
            "ms",
        ),
    ]


def _write_row(got: Paired, at: str) -> Row:
    return Row(
        NAME,
        f"{at}: app, click -> the bot's CreateAccountAssignment sent, p50",
        percentile(got.app_to_write, 50) * 1000,
        "ms",
        note=f"n={len(got.app_to_write)}",
    )


def _listing(listed: list[float], answered: list[float]) -> list[float]:
    """Seconds from the assignment work answered to the assignment listed, per round."""
    return [a - b for a, b in zip(listed, answered, strict=True)]


def _bare_rows(got: Samples) -> list[Row]:
    bare, at = got.bare, "bare moto (diagnostic)"
    in_process = Paired(got.in_process, bare.direct)
    return [
        Row(
            NAME,
            f"{at}: app, click -> assignment listed, p50",
            percentile(bare.app, 50) * 1000,
            "ms",
            note=f"n={len(bare.app)}",
        ),
        Row(
            NAME,
            f"{at}: direct boto3, create -> listed, p50",
            percentile(bare.direct, 50) * 1000,
            "ms",
        ),
        Row(
            NAME,
            f"{at}: the bot's added time per grant (app - direct, per round), p50",
            percentile(bare.added(), 50) * 1000,
            "ms",
        ),
        Row(
            NAME,
            f"{at}: the bot's added time per grant, p99",
            percentile(bare.added(), 99) * 1000,
            "ms",
        ),
        _write_row(bare, at),
        Row(
            NAME,
            f"{at}: app, click -> CreateAccountAssignment answered, p50",
            percentile(got.to_create, 50) * 1000,
            "ms",
        ),
        Row(
            NAME,
            f"{at}: app, click -> the bot's assign returned (its datagram in), p50",
            percentile(bare.app_assigned, 50) * 1000,
            "ms",
        ),
        Row(
            NAME,
            f"{at}: direct boto3, create -> creation answered, p50",
            percentile(bare.direct_answered, 50) * 1000,
            "ms",
        ),
        Row(
            NAME,
            f"{at}: Services.decide called in the bot (no HTTP, no Bolt): added time per "
            "grant, p50 / p99",
            _p50_p99(in_process.added()),
            "ms",
        ),
        Row(
            NAME,
            f"{at}: the bot's store.get, p50 back to back / after 0.1 s idle",
            f"{got.hot * 1e6:.0f} / {got.idle * 1e6:.0f}",
            "us",
        ),
        Row(
            NAME,
            "app: the bot's AWS rate limiter waited, over the bare and 20 ms rounds",
            got.waited * 1000,
            "ms",
        ),
    ]


def _standin_rows(standin: Paired) -> list[Row]:
    at = (
        f"stand-in, {STANDIN_OP_SECONDS:g} s operations, "
        f"{AWS_LIKE_LATENCY * 1000:.0f} ms per AWS call"
    )
    return [
        Row(
            NAME,
            f"{at}: app, click -> assignment listed, p50 / p99",
            _p50_p99(standin.app),
            "ms",
            note=f"n={len(standin.app)}",
        ),
        Row(
            NAME,
            f"{at}: direct boto3 (Describe every {DIRECT_POLL_INTERVAL:g} s), "
            "create -> listed, p50 / p99",
            _p50_p99(standin.direct),
            "ms",
        ),
        _ratio(standin, f"{at}: app / direct boto3 (p50)"),
        _write_row(standin, at),
        Row(
            NAME,
            f"{at}: app, click -> the bot's assign returned / direct, create -> creation "
            "final, p50",
            f"{percentile(standin.app_assigned, 50) * 1000:.1f} / "
            f"{percentile(standin.direct_answered, 50) * 1000:.1f}",
            "ms",
        ),
    ]
