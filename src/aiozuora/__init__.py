"""aiozuora: an async SDK for Zuora's Mass Updater (mass action) REST API."""

import logging

from ._client import ClientStats, Environment, ZuoraClient
from ._errors import (
    APIError,
    AuthenticationError,
    InvalidRequestError,
    MassActionNotStoppableError,
    NoResponseFileError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TransportError,
    WaitTimeoutError,
    ZuoraError,
)
from ._models import (
    MASS_ACTION_TYPES,
    MassAction,
    MassActionStatus,
    RowOutcome,
    StopOutcome,
)
from ._policies import DEFAULT_WAIT_TIMEOUT, PollPolicy, RetryPolicy
from ._response_file import ResponseFile, ResponseRow
from ._track_id import track_id
from ._version import __version__

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "MASS_ACTION_TYPES",
    "APIError",
    "AuthenticationError",
    "ClientStats",
    "Environment",
    "InvalidRequestError",
    "MassAction",
    "MassActionNotStoppableError",
    "MassActionStatus",
    "NoResponseFileError",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "ProtocolError",
    "RateLimitError",
    "ResponseFile",
    "ResponseRow",
    "RetryPolicy",
    "RowOutcome",
    "ServerError",
    "StopOutcome",
    "TransportError",
    "WaitTimeoutError",
    "ZuoraClient",
    "ZuoraError",
    "__version__",
    "track_id",
]

# A library leaves output to the application: without this, Python's last-resort
# handler would print the SDK's warnings to stderr next to the exception the
# caller already gets.
logging.getLogger("aiozuora").addHandler(logging.NullHandler())
