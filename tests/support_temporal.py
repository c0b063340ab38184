"""The Temporal binaries the venv installs, and the search attributes a test server needs."""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from workflows import search_attributes

BIN = Path(sys.executable).parent
"""Where the venv's console scripts live: temporal, temporal-test-server, schemathesis."""


async def register_search_attributes(env: WorkflowEnvironment) -> None:
    """Register the application's search attributes on a server that does not take them at start."""
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in search_attributes.ALL
            },
        )
    )
