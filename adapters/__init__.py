"""Clients of the departments' systems, used by Temporal activities.

Each department has a ``typing.Protocol`` (what activities depend on) and an httpx
implementation; every failure surfaces as a ``temporalio.exceptions.ApplicationError``
whose ``type`` is a constant of ``domain.errors``.
"""

from adapters.departments import Departments

__all__ = ["Departments"]
