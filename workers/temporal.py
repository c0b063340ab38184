"""The one way API and worker connect to Temporal: encrypted payloads and failures."""

from __future__ import annotations

import dataclasses
import logging

from temporalio.client import Client
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from config import Settings
from domain.keyring import parse_keyring
from workers.codec import EncryptionCodec


def data_converter(settings: Settings) -> DataConverter:
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=EncryptionCodec(parse_keyring(settings.payload_keys)),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def runtime(metrics_bind: str | None = None) -> Runtime:
    """The SDK runtime: Core's logs through Python logging (so they are masked), metrics for Prometheus."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="WARN"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=PrometheusConfig(bind_address=metrics_bind) if metrics_bind else None,
            metric_prefix="temporal_",
        )
    )


async def connect(settings: Settings, *, metrics_bind: str | None = None) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime(metrics_bind),
    )


def workflow_id(application_id: str) -> str:
    return f"permit-{application_id}"
