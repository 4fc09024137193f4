"""Kafka connection security: the settings that describe it and the one helper every aiokafka client is built with."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import certifi
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from treatywatch.common import kafka
from treatywatch.common.kafka import Consumer, Publisher, connection_options, ensure_topics
from treatywatch.common.settings import Settings

BOOTSTRAP = "treatywatch-kafka-bootstrap:9093"
# Any PEM bundle will do as the cluster's CA.
CA_FILE = Path(certifi.where())
SASL = {"kafka_username": "treatywatch-ingest", "kafka_password": "s3cret"}


def settings(**values: Any) -> Settings:
    return Settings(kafka_bootstrap=BOOTSTRAP, **values)


def assert_verifies_brokers(context: Any) -> None:
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    assert connection_options(settings()) == {"bootstrap_servers": BOOTSTRAP, "security_protocol": "PLAINTEXT"}


def test_ssl_verifies_the_brokers_against_the_ca_file() -> None:
    options = connection_options(settings(kafka_security_protocol="SSL", kafka_ca_file=CA_FILE))
    assert set(options) == {"bootstrap_servers", "security_protocol", "ssl_context"}
    assert options["security_protocol"] == "SSL"
    assert_verifies_brokers(options["ssl_context"])
    assert options["ssl_context"].cert_store_stats()["x509_ca"] > 0


def test_ssl_without_a_ca_file_still_verifies_the_brokers_with_the_system_store() -> None:
    assert_verifies_brokers(connection_options(settings(kafka_security_protocol="SSL"))["ssl_context"])


def test_sasl_plaintext_authenticates_with_scram_sha_512_by_default() -> None:
    assert connection_options(settings(kafka_security_protocol="SASL_PLAINTEXT", **SASL)) == {
        "bootstrap_servers": BOOTSTRAP,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "treatywatch-ingest",
        "sasl_plain_password": "s3cret",
    }


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
def test_sasl_ssl_authenticates_over_a_verified_connection(mechanism: str) -> None:
    options = connection_options(
        settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism, kafka_ca_file=CA_FILE, **SASL)
    )
    assert_verifies_brokers(options.pop("ssl_context"))
    assert options == {
        "bootstrap_servers": BOOTSTRAP,
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "treatywatch-ingest",
        "sasl_plain_password": "s3cret",
    }


def test_the_settings_come_from_the_environment_and_keep_the_password_out_of_reprs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "TREATYWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "TREATYWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        "TREATYWATCH_KAFKA_USERNAME": "treatywatch-notify",
        "TREATYWATCH_KAFKA_PASSWORD": "s3cret",
        "TREATYWATCH_KAFKA_CA_FILE": str(CA_FILE),
    }.items():
        monkeypatch.setenv(name, value)
    loaded = Settings()
    assert (loaded.kafka_security_protocol, loaded.kafka_sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-256")
    assert (loaded.kafka_username, loaded.kafka_ca_file) == ("treatywatch-notify", CA_FILE)
    assert "s3cret" not in repr(loaded) and connection_options(loaded)["sasl_plain_password"] == "s3cret"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "needs TREATYWATCH_KAFKA_USERNAME and TREATYWATCH_KAFKA_PASSWORD"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_username": "u"}, "needs TREATYWATCH_KAFKA_USERNAME"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_password": "p"}, "needs TREATYWATCH_KAFKA_USERNAME"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_username": "u", "kafka_password": ""}, "needs"),
        ({"kafka_ca_file": CA_FILE}, "TREATYWATCH_KAFKA_CA_FILE needs a TLS protocol"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_ca_file": CA_FILE, **SASL}, "needs a TLS protocol"),
        ({"kafka_security_protocol": "SSL", "kafka_ca_file": "/nonexistent/ca.crt"}, "kafka_ca_file"),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "GSSAPI", **SASL}, "kafka_sasl_mechanism"),
        (
            {
                "profile": "production",
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_mechanism": "PLAIN",
                **SASL,
            },
            "sends the Kafka password in clear",
        ),
    ],
)
def test_incomplete_or_contradictory_security_is_a_startup_error(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_credentials_without_sasl_are_unused_not_refused() -> None:
    # One rebuild Job manifest names the registry's Kafka user on clusters with and without SASL.
    assert connection_options(settings(**SASL)) == {"bootstrap_servers": BOOTSTRAP, "security_protocol": "PLAINTEXT"}


class Refused(Exception):
    pass


def recording(built: list[dict[str, Any]]) -> type:
    """A stand-in for an aiokafka client class that records its keyword arguments and refuses to start."""

    class Client:
        def __init__(self, *topics: str, **options: Any) -> None:
            built.append(options)

        async def start(self) -> None:
            raise Refused

        async def stop(self) -> None:
            pass

        async def close(self) -> None:
            pass

    return Client


async def test_the_producer_the_consumer_and_the_admin_client_are_built_with_the_helper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configured = settings(kafka_security_protocol="SASL_SSL", kafka_ca_file=CA_FILE, **SASL)
    built: list[dict[str, Any]] = []
    for name in ("AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"):
        monkeypatch.setattr(kafka, name, recording(built))
    with pytest.raises(Refused):
        await Publisher(configured).start()
    with pytest.raises(Refused):
        await Consumer(configured, "treatywatch-notify").start()
    with pytest.raises(Refused):
        await ensure_topics(configured)
    expected = {k: v for k, v in connection_options(configured).items() if k != "ssl_context"}
    assert len(built) == 3
    for options in built:
        assert_verifies_brokers(options.pop("ssl_context"))
        assert options.items() >= expected.items()


async def test_aiokafka_accepts_the_options_for_each_client() -> None:
    options = connection_options(settings(kafka_security_protocol="SASL_SSL", kafka_ca_file=CA_FILE, **SASL))
    producer = AIOKafkaProducer(**options)
    consumer = AIOKafkaConsumer("treatywatch.events", **options)
    admin = AIOKafkaAdminClient(**options)
    try:
        for client in (producer.client, consumer._client, admin._client):
            assert client._security_protocol == "SASL_SSL"
            assert (client._sasl_mechanism, client._sasl_plain_username) == ("SCRAM-SHA-512", "treatywatch-ingest")
            assert client._ssl_context is options["ssl_context"]
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.close()
