"""A local Zuora for tests and demos: ``ZuoraSimulator`` serves the OAuth, Mass
Updater and Files endpoints over real HTTP, with Zuora's states, error shapes,
headers and limits, and ``Fault`` makes it fail on demand."""

from ._app import RecordedRequest
from ._faults import Fault
from ._simulator import ZuoraSimulator
from ._state import ActionSnapshot

__all__ = ["ActionSnapshot", "Fault", "RecordedRequest", "ZuoraSimulator"]
