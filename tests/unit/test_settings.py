"""Settings every process reads: what keys are accepted, and where."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from treatywatch.common.settings import SCOPES, Settings, hash_key


def test_a_development_key_shorter_than_32_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(dev_api_key="x")
    assert Settings(dev_api_key="k" * 32).key_scopes[hash_key("k" * 32)] == frozenset(SCOPES)


def test_a_development_key_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(dev_api_key="k" * 40, profile="production")
    assert Settings(profile="production").key_scopes == {}


def test_a_configured_key_with_an_unknown_scope_is_refused() -> None:
    entry = {"name": "ci", "sha256": hash_key("a"), "scopes": ["ingest:write", "everything"]}
    with pytest.raises(ValidationError, match="scopes"):
        Settings(api_keys=[entry])
