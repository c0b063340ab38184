"""structlog configured once: personal data masked in every line, JSON outside development."""

from __future__ import annotations

import logging
import sys
from typing import Any
from urllib.parse import unquote

import structlog

from domain.masking import mask_text


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(unquote(value) if "%" in value else value)  # query strings arrive percent-encoded
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_value(v) for v in value]
    return value


def mask_personal_data(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: ID numbers, phones, VINs and plates never reach a log line."""
    return {key: _mask_value(value) for key, value in event_dict.items()}


def configure_logging(*, development: bool, level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_personal_data,
    ]
    renderer: Any = structlog.dev.ConsoleRenderer(colors=False) if development else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry department query strings
