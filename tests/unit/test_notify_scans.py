"""Scans of every pending delivery (gauges, orphaned leases) run less often when a large backlog makes them slow."""

import pytest

from treatywatch.notify.delivery import SCAN_SHARE, scan_pause_s


@pytest.mark.parametrize(("took_s", "pause_s"), [(0.0, 10.0), (0.05, 10.0), (0.2, 10.0), (0.5, 25.0), (1.3, 65.0)])
def test_a_scan_keeps_its_interval_until_it_would_take_more_than_its_share(took_s: float, pause_s: float) -> None:
    assert scan_pause_s(10.0, took_s) == pytest.approx(pause_s)
    assert took_s / (scan_pause_s(10.0, took_s) + took_s) <= SCAN_SHARE
