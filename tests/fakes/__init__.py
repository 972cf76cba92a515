"""Test doubles that talk over real sockets: the scripted loopback model server."""

from tests.fakes.model_server import FakeModelServer, closed_port
from tests.fakes.script import Fault, RecordedRequest, Reply

__all__ = ["FakeModelServer", "Fault", "RecordedRequest", "Reply", "closed_port"]
