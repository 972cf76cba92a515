"""The local model registry: SQLite storage, migrations and API key encryption."""

from beastmode.registry.records import ModelRecord, ModelRegistration
from beastmode.registry.store import Registry

__all__ = ["ModelRecord", "ModelRegistration", "Registry"]
