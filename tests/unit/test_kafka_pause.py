"""How long an idle consumer pauses between fetches on a broker that does not long-poll."""

from __future__ import annotations

import pytest

from treatywatch.common.kafka import idle_pause_s


@pytest.mark.parametrize(
    ("quiet_s", "pause_s"),
    [(0.0, 0.015), (0.99, 0.015), (1.0, 0.03), (2.5, 0.06), (3.0, 0.12), (3600.0, 0.12)],
)
def test_the_pause_stays_short_while_traffic_is_recent_then_doubles_up_to_8x(quiet_s: float, pause_s: float) -> None:
    assert idle_pause_s(0.015, quiet_s) == pytest.approx(pause_s)
