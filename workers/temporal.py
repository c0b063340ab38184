"""The one way API and worker connect to Temporal: encrypted payloads and failures."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from config import Settings
from workers.codec import EncryptionCodec, parse_keyring


def data_converter(settings: Settings) -> DataConverter:
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=EncryptionCodec(parse_keyring(settings.payload_keys)),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )


def workflow_id(application_id: str) -> str:
    return f"permit-{application_id}"
