"""The pending-delivery gauges scan every pending delivery: with a large backlog they are taken less often."""

import pytest

from treatywatch.notify.delivery import GAUGES_SHARE, gauges_pause_s


@pytest.mark.parametrize(("took_s", "pause_s"), [(0.0, 10.0), (0.05, 10.0), (0.2, 10.0), (0.5, 25.0), (1.3, 65.0)])
def test_gauges_keep_their_interval_until_their_queries_would_take_more_than_their_share(
    took_s: float, pause_s: float
) -> None:
    assert gauges_pause_s(10.0, took_s) == pytest.approx(pause_s)
    assert took_s / (gauges_pause_s(10.0, took_s) + took_s) <= GAUGES_SHARE
