"""The registry's HTTP routes, one router per resource; `models` holds the answers they give."""

from __future__ import annotations

from fastapi import APIRouter

from treatywatch.registry.routes import events, feeds, participants, resolutions, search, treaties

ROUTERS: tuple[APIRouter, ...] = (
    treaties.router,
    participants.router,
    resolutions.router,
    search.router,
    events.router,
    feeds.router,
)
