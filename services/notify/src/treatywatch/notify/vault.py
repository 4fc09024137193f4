"""Webhook secrets at rest: sealed with AES-256-GCM under the operator's keys, each bound to its subscription.

`TREATYWATCH_SECRET_KEYS` lists keys of 32 bytes in base64url: the first seals, every one opens. A stored secret
is either `whsec_...`, written before any key was set (read as it is, sealed when next written), or
`sealed:v1:<key id>:<base64url of nonce, ciphertext and tag>`. The key id is the start of the key's SHA-256, so
the right key is found at once; the subscription's id is the associated data, so a sealed secret copied onto
another subscription does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from treatywatch.common.mongo import Document

SEALED = "sealed:v1:"
NONCE_BYTES = 12
# Opened secrets kept, so a subscription reloaded every few seconds is not decrypted each time.
CACHE_SIZE = 10_000


class Unopenable(Exception):
    """A sealed secret that none of the configured keys opens."""


def key_bytes(text: str) -> bytes:
    """A key as the operator writes it (32 bytes in base64url, padded or not); ValueError otherwise."""
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a secret key is 32 bytes in base64url") from exc
    if len(key) != 32:
        raise ValueError(f"a secret key is 32 bytes in base64url, not {len(key)}")
    return key


def key_id(key: bytes) -> str:
    """The id a sealed secret names its key by: not the key, nor enough to find it."""
    return hashlib.sha256(key).hexdigest()[:8]


def aead(key: bytes) -> AESGCM:
    """AES-256-GCM under `key`."""
    return AESGCM(key)


class Vault:
    """Seals secrets under the first key and opens those sealed under any; without keys, secrets stay as they are."""

    def __init__(self, keys: Sequence[bytes] = ()) -> None:
        self._ciphers = {key_id(k): aead(k) for k in keys}
        self._sealing = key_id(keys[0]) if keys else None
        self._opened: dict[tuple[str, str], str] = {}

    def seal(self, subscription_id: str, secret: str) -> str:
        """The secret as it is stored."""
        if self._sealing is None:
            return secret
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._sealing].encrypt(nonce, secret.encode(), subscription_id.encode())
        return f"{SEALED}{self._sealing}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, subscription_id: str, stored: str) -> str:
        """The secret a stored one holds; Unopenable if no configured key opens it."""
        if not stored.startswith(SEALED):
            return stored
        cached = self._opened.get((subscription_id, stored))
        if cached is not None:
            return cached
        kid, _, data = stored.removeprefix(SEALED).partition(":")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise Unopenable(f"a secret of {subscription_id} is sealed under key {kid}, not in TREATYWATCH_SECRET_KEYS")
        try:
            raw = base64.urlsafe_b64decode(data)
            secret: str = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], subscription_id.encode()).decode()
        except Exception as exc:  # cryptography's InvalidTag, or a damaged value
            raise Unopenable(f"a secret of {subscription_id} does not open under key {kid}") from exc
        if len(self._opened) >= CACHE_SIZE:
            self._opened.clear()
        self._opened[subscription_id, stored] = secret
        return secret

    def opened(self, subscription: Document) -> Document:
        """The subscription with its current and previous secrets readable, as they sign."""
        return self._each_secret(subscription, self.open)

    def sealed(self, subscription: Document) -> Document:
        """The subscription with readable secrets sealed under the first key, as they are written."""
        return self._each_secret(subscription, self.seal)

    def stale(self, subscription: Document) -> bool:
        """Whether a stored secret of the subscription is not sealed under the first key (it is to be sealed again)."""
        if self._sealing is None:
            return False
        current = f"{SEALED}{self._sealing}:"
        stored = [subscription["secret"], *(p["secret"] for p in subscription.get("previous_secrets") or [])]
        return any(not s.startswith(current) for s in stored)

    @staticmethod
    def _each_secret(subscription: Document, change: Callable[[str, str], str]) -> Document:
        subscription_id = subscription["_id"]
        previous = [
            {**p, "secret": change(subscription_id, p["secret"])} for p in subscription.get("previous_secrets") or []
        ]
        return {**subscription, "secret": change(subscription_id, subscription["secret"]), "previous_secrets": previous}
