"""The long-lived resources the API makes once in its lifespan and its services use."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client

from adapters.departments import Departments
from config import Settings
from store import Store


@dataclass
class Resources:
    settings: Settings
    store: Store
    client: Client
    departments: Departments
