"""``client.mass_actions``: submit, read, stop and wait for Zuora mass actions.

What Zuora's Mass Updater does, and how this module answers it:

- A stop is accepted only while an action is Pending or Processing. Stopping is
  idempotent from the caller's view: when Zuora refuses a stop, the action's
  state is looked up, and Stopping or Stopped counts as stopped (an earlier
  attempt landed and its answer was lost, or someone else stopped it), while
  Completed or Failed raises ``MassActionNotStoppableError``. The decision is
  never taken from the wording of Zuora's message.
- Waiting polls ``GET /v1/bulk/{bulk-key}`` under a ``PollPolicy`` until the
  action is Stopped, Completed or Failed. A poll that fails for a transient
  reason (after the session layer's own retries) is logged and the wait goes on;
  the wait ends with ``WaitTimeoutError`` carrying the last state seen.
- Every operation opens one INTERNAL span (``zuora.mass_actions.<name>``, with
  ``zuora.bulk_key``); the session layer adds one CLIENT span per HTTP attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import inspect
import io
import json
import logging
import math
import os
import random
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any, Protocol

import aiohttp
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from ._errors import (
    APIError,
    AuthenticationError,
    MassActionNotStoppableError,
    NoResponseFileError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from ._models import (
    MASS_ACTION_TYPES,
    MassAction,
    MassActionStatus,
    StopOutcome,
    validate_bulk_key,
)
from ._policies import DEFAULT_WAIT_TIMEOUT, PollPolicy
from ._response_file import ResponseFile

__all__ = ["MAX_UPLOAD_BYTES", "MassActions"]

logger = logging.getLogger("aiozuora.mass_actions")

#: Zuora refuses mass action files larger than this (4 MB).
MAX_UPLOAD_BYTES = 4 * 1024 * 1024

_MAX_IDEMPOTENCY_KEY = 255

#: Failures of one poll that do not end a wait: Zuora or the network may
#: answer the next poll.
_TRANSIENT = (TransportError, ServerError, RateLimitError, ProtocolError)

#: Failures of a stop that say nothing about the action's state: raised as
#: they are. After any other failure (a refusal, or an answer that never
#: arrived and may hide a stop that landed) the state is looked up to decide.
_STOP_FAILURES_TO_RAISE = (
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    RateLimitError,
)

_STOPPED = (MassActionStatus.STOPPING, MassActionStatus.STOPPED)
_FINISHED = (MassActionStatus.COMPLETED, MassActionStatus.FAILED)

#: Where the bytes of a mass action file come from.
UploadFile = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

OnOutcome = Callable[[StopOutcome], Awaitable[None] | None]
OnPoll = Callable[[MassAction], Awaitable[None] | None]


class _Session(Protocol):
    """What this module needs from the session layer (``ZuoraClient``)."""

    def _operation(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> contextlib.AbstractAsyncContextManager[Span]: ...

    async def _call_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Callable[[], aiohttp.FormData] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]: ...

    async def _download(self, url: str, dest: IO[bytes]) -> int: ...


@dataclass
class _Seen:
    """The last state a wait saw, kept outside the polling task so that a
    timeout can report it."""

    bulk_key: str
    last: MassAction | None = None
    #: Why the latest poll failed; None once a poll succeeds again.
    last_error: Exception | None = None
    #: Told of every state a poll sees.
    on_poll: OnPoll | None = None

    def failed(self, error: Exception) -> None:
        self.last_error = error

    def update(self, action: MassAction) -> None:
        self.last_error = None
        if self.last is None or self.last.status != action.status:
            logger.info(
                "mass action %s is %s (%s of %s records processed)",
                action.bulk_key,
                action.status,
                _count_text(action.processed_count),
                _count_text(action.total_count),
            )
        self.last = action


class MassActions:
    """Zuora's mass actions (Mass Updater): ``client.mass_actions``.

    Every method checks its arguments before any request: a bulk key that is
    not letters and digits, a bad timeout or an unusable file is a
    ``ValueError`` and nothing is sent.
    """

    def __init__(self, client: _Session) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<MassActions of {self._client!r}>"

    # -- reading -----------------------------------------------------------

    async def get(self, bulk_key: str) -> MassAction:
        """The current state of one mass action (``GET /v1/bulk/{bulk-key}``)."""
        key = validate_bulk_key(bulk_key)
        async with self._op("get", key) as span:
            action = await self._fetch(key)
            span.set_attribute("zuora.mass_action.status", str(action.status))
            return action

    # -- stopping ----------------------------------------------------------

    async def stop(self, bulk_key: str) -> None:
        """Ask Zuora to stop a mass action (``PUT /v1/bulk/{bulk-key}/stop``).

        Returns once the action is stopping or stopped, including when Zuora
        refuses because it already is. Raises ``MassActionNotStoppableError``
        (with the current state in ``action``) when the action already
        Completed or Failed.
        """
        key = validate_bulk_key(bulk_key)
        await self._stop(key)

    async def wait(
        self,
        bulk_key: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll: PollPolicy | None = None,
        on_poll: OnPoll | None = None,
    ) -> MassAction:
        """Poll a mass action until it is Stopped, Completed or Failed.

        Looks at once, then after each interval of ``poll``. A poll that fails
        for a transient reason (connection, 5xx, 429, garbled answer) does not
        end the wait. Raises ``WaitTimeoutError`` (a ``TimeoutError``) with the
        last state seen when ``timeout`` seconds pass first. ``on_poll``, a
        plain or async callable, is given every state a poll sees (to show
        progress); an exception it raises is logged and the wait goes on.
        """
        key = validate_bulk_key(bulk_key)
        limit = _check_timeout(timeout)
        policy = _check_poll(poll)
        async with self._op("wait", key) as span:
            seen = _Seen(key, on_poll=on_poll)
            action = await _within(
                limit, seen, self._poll(key, policy, seen, look_first=True)
            )
            span.set_attribute("zuora.mass_action.status", str(action.status))
            return action

    async def stop_and_wait(
        self,
        bulk_key: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll: PollPolicy | None = None,
    ) -> MassAction:
        """Stop a mass action and wait for its final state.

        The result is Stopped, or Completed or Failed when the action finished
        before the stop could land; either way it is the action's final state,
        not an error. ``timeout`` covers the stop and the wait together.
        """
        key = validate_bulk_key(bulk_key)
        limit = _check_timeout(timeout)
        policy = _check_poll(poll)
        return await self._stop_and_wait(key, limit, policy)

    async def stop_many(
        self,
        bulk_keys: Iterable[str],
        *,
        concurrency: int = 10,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll: PollPolicy | None = None,
        on_outcome: OnOutcome | None = None,
    ) -> list[StopOutcome]:
        """Stop many mass actions, at most ``concurrency`` at a time.

        Returns one ``StopOutcome`` per given key, in the given order. A key's
        failure is its outcome's ``error`` and never stops the others or raises
        (an invalid key gets a ``ValueError`` outcome without any request). A
        key given twice is stopped once, and each position gets the outcome.

        With ``wait=True`` each key is stopped and waited for as by
        ``stop_and_wait`` (``timeout`` applies to each key from its start) and
        ``action`` is its final state. With ``wait=False`` each key is stopped as
        by ``stop``, with one request per key: ``action`` is ``None`` when Zuora
        accepted the stop (the action is now Stopping or Stopped; no state was
        read), and the state looked up when Zuora refused the stop (already
        Stopping or Stopped: ok; already Completed or Failed: the error).

        ``on_outcome`` (a function or a coroutine function) is called with each
        outcome as it is known, once per position, for progress reports; an
        exception it raises is logged, not propagated. Cancelling the call
        cancels every stop and wait still running.
        """
        if isinstance(bulk_keys, (str, bytes)):
            raise TypeError("bulk_keys must be an iterable of bulk keys, not a string")
        if (
            isinstance(concurrency, bool)
            or not isinstance(concurrency, int)
            or concurrency < 1
        ):
            raise ValueError(
                f"concurrency must be a whole number of at least 1, not {concurrency!r}"
            )
        limit = _check_timeout(timeout)
        policy = _check_poll(poll)
        given = list(bulk_keys)

        positions: dict[str, list[int]] = {}
        invalid: dict[int, StopOutcome] = {}
        for index, raw in enumerate(given):
            try:
                positions.setdefault(validate_bulk_key(raw), []).append(index)
            except ValueError as error:
                invalid[index] = StopOutcome(str(raw), None, error)

        outcomes: list[StopOutcome | None] = [None] * len(given)
        attributes = {
            "zuora.bulk_key_count": len(given),
            "zuora.mass_actions.concurrency": concurrency,
            "zuora.mass_actions.wait": wait,
        }
        async with self._client._operation(
            "zuora.mass_actions.stop_many", attributes
        ) as span:
            for index, outcome in invalid.items():
                outcomes[index] = outcome
                await _notify(on_outcome, outcome)

            gate = asyncio.Semaphore(concurrency)

            async def one(key: str) -> None:
                async with gate:
                    outcome = await self._outcome(key, wait, limit, policy)
                for index in positions[key]:
                    outcomes[index] = outcome
                    await _notify(on_outcome, outcome)

            tasks = [asyncio.ensure_future(one(key)) for key in positions]
            try:
                await asyncio.gather(*tasks)
            finally:
                # gather cancels its children when it is cancelled itself, but
                # not when one of them fails: make sure none is left running.
                for task in tasks:
                    task.cancel()
                if tasks:
                    await asyncio.wait(tasks)

            done = [outcome for outcome in outcomes if outcome is not None]
            failed = sum(1 for outcome in done if not outcome.ok)
            span.set_attribute("zuora.mass_actions.failed_count", failed)
            logger.info(
                "stop_many: %d %s, %d ok, %d not stopped",
                len(done),
                "key" if len(done) == 1 else "keys",
                len(done) - failed,
                failed,
            )
            return done

    # -- response files ----------------------------------------------------

    async def response_file(self, action: MassAction | str) -> ResponseFile:
        """Download and read the response file of a finished mass action.

        ``action`` is a ``MassAction`` (as returned by ``wait``) or a bulk key,
        whose state is then looked up first. The zipped CSV is streamed to a
        temporary file, read into the returned ``ResponseFile`` and deleted.
        Raises ``NoResponseFileError`` when the action has no file: it was
        stopped before processing started, it Failed, or it is still running.
        """
        if isinstance(action, MassAction):
            key = validate_bulk_key(action.bulk_key)
        else:
            key = validate_bulk_key(action)
        async with self._op("response_file", key) as span:
            state = action if isinstance(action, MassAction) else await self._fetch(key)
            url = state.output_url
            if not url:
                raise NoResponseFileError(state)

            # Closed by the reading thread below, or here if the download fails.
            download = tempfile.TemporaryFile()  # noqa: SIM115
            try:
                size = await self._client._download(url, download)
            except BaseException:
                download.close()
                raise
            span.set_attribute("zuora.response_file.bytes", size)
            # Reading a large CSV takes a while: keep it off the event loop.
            # The thread closes (and so deletes) the temporary file.
            result = await asyncio.to_thread(_read_and_close, download, key)
            span.set_attribute("zuora.response_file.records", len(result))
            return result

    # -- submitting --------------------------------------------------------

    async def submit(
        self,
        file: UploadFile,
        action_type: str,
        *,
        idempotency_key: str | None = None,
    ) -> str:
        """Upload a mass action file and start the action; returns its bulk key.

        ``file`` is a path, the bytes, or a binary file object, holding a CSV or
        a zip of one CSV of at most 4 MB. ``action_type`` is one of
        ``MASS_ACTION_TYPES``. The file's MD5 is sent as ``checksum``. An
        Idempotency-Key (a new UUID unless one is given) is sent on every
        attempt, so that a retried upload never starts a second action.
        """
        kind = _check_action_type(action_type)
        key = _check_idempotency_key(idempotency_key)
        content, filename = _read_upload(file)
        is_zip = _check_content(content, filename)

        params = json.dumps(
            {"actionType": kind, "checksum": hashlib.md5(content).hexdigest()}
        )
        content_type = "application/zip" if is_zip else "text/csv"

        def body() -> aiohttp.FormData:
            form = aiohttp.FormData()
            form.add_field(
                "file", content, filename=filename, content_type=content_type
            )
            form.add_field("params", params)
            return form

        attributes = {"zuora.mass_action.type": kind}
        async with self._client._operation(
            "zuora.mass_actions.submit", attributes
        ) as span:
            data = await self._client._call_json(
                "POST", "/v1/bulk", data=body, idempotency_key=key
            )
            bulk_key = data.get("bulkKey")
            try:
                bulk_key = validate_bulk_key(bulk_key)
            except ValueError:
                raise ProtocolError(
                    f"Zuora accepted the upload but sent no usable bulkKey: "
                    f"{bulk_key!r}"
                ) from None
            span.set_attribute("zuora.bulk_key", bulk_key)
        logger.info(
            "submitted mass action %s (%s, %d bytes)", bulk_key, kind, len(content)
        )
        return bulk_key

    # -- internals ---------------------------------------------------------

    def _op(
        self, name: str, bulk_key: str
    ) -> contextlib.AbstractAsyncContextManager[Span]:
        return self._client._operation(
            f"zuora.mass_actions.{name}", {"zuora.bulk_key": bulk_key}
        )

    async def _fetch(self, key: str) -> MassAction:
        data = await self._client._call_json("GET", f"/v1/bulk/{key}")
        return MassAction.from_json(key, data)

    async def _get(self, key: str) -> MassAction:
        async with self._op("get", key) as span:
            action = await self._fetch(key)
            span.set_attribute("zuora.mass_action.status", str(action.status))
            return action

    async def _stop(
        self, key: str, *, finished_is_final: bool = False
    ) -> MassAction | None:
        """Stop ``key``; return its state when a refusal made it look the
        state up, else None (Zuora accepted the stop).

        An action that already Completed or Failed raises
        ``MassActionNotStoppableError``, unless ``finished_is_final``: then its
        state is returned, and the span does not record a failure.
        """
        async with self._op("stop", key) as span:
            try:
                await self._client._call_json("PUT", f"/v1/bulk/{key}/stop")
            except (APIError, TransportError, ProtocolError) as error:
                if isinstance(error, _STOP_FAILURES_TO_RAISE):
                    raise
                action = await self._state_after_failed_stop(key, error)
                span.set_attribute("zuora.mass_action.status", str(action.status))
                if action.status not in _STOPPED and action.status not in _FINISHED:
                    # Still Pending or Processing (or a status unknown here):
                    # the refusal stands as Zuora gave it.
                    raise error
                if action.status in _FINISHED and not finished_is_final:
                    raise MassActionNotStoppableError(
                        action, error if isinstance(error, APIError) else None
                    ) from error
                return action

            logger.info("stop requested for mass action %s", key)
            return None

    async def _state_after_failed_stop(
        self, key: str, error: APIError | TransportError | ProtocolError
    ) -> MassAction:
        """Look the action up after a stop failed, to decide whether the stop
        holds; a failed look-up raises the stop's own ``error``."""
        try:
            action = await self._fetch(key)
        except (APIError, TransportError, ProtocolError) as lookup_error:
            raise error from lookup_error

        if action.status in _STOPPED:
            logger.info(
                "mass action %s is already %s; the stop holds (%s)",
                key,
                action.status,
                error,
            )
        elif action.status in _FINISHED:
            logger.info(
                "mass action %s was already %s when the stop arrived",
                key,
                action.status,
            )
        return action

    async def _stop_and_wait(
        self, key: str, limit: float, policy: PollPolicy
    ) -> MassAction:
        async with self._op("stop_and_wait", key) as span:
            seen = _Seen(key)
            action = await _within(limit, seen, self._stop_then_poll(key, policy, seen))
            span.set_attribute("zuora.mass_action.status", str(action.status))
            return action

    async def _stop_then_poll(
        self, key: str, policy: PollPolicy, seen: _Seen
    ) -> MassAction:
        known = await self._stop(key, finished_is_final=True)
        if known is not None:
            seen.update(known)
            if known.is_terminal:
                return known
        async with self._op("wait", key) as span:
            action = await self._poll(key, policy, seen, look_first=False)
            span.set_attribute("zuora.mass_action.status", str(action.status))
            return action

    async def _poll(
        self, key: str, policy: PollPolicy, seen: _Seen, *, look_first: bool
    ) -> MassAction:
        intervals = poll_intervals(policy)
        delay = 0.0 if look_first else next(intervals)
        while True:
            if delay > 0:
                await asyncio.sleep(delay)
            retry_after = 0.0
            try:
                action = await self._get(key)
            except _TRANSIENT as error:
                seen.failed(error)
                retry_after = getattr(error, "retry_after", None) or 0.0
                logger.info(
                    "poll of mass action %s failed, polling goes on: %s", key, error
                )
            else:
                seen.update(action)
                await _tell(seen.on_poll, action)
                if action.is_terminal:
                    return action
            delay = max(next(intervals), retry_after)

    async def _outcome(
        self, key: str, wait: bool, limit: float, policy: PollPolicy
    ) -> StopOutcome:
        try:
            if wait:
                action: MassAction | None = await self._stop_and_wait(
                    key, limit, policy
                )
            else:
                action = await self._stop(key)
        except asyncio.CancelledError:
            raise
        except MassActionNotStoppableError as error:
            return StopOutcome(key, error.action, error)
        except WaitTimeoutError as error:
            return StopOutcome(key, error.last, error)
        except Exception as error:
            logger.info("mass action %s was not stopped: %s", key, error)
            return StopOutcome(key, None, error)
        return StopOutcome(key, action, None)


async def _within(limit: float, seen: _Seen, work: Awaitable[MassAction]) -> MassAction:
    """Run ``work`` for at most ``limit`` seconds; on timeout raise
    ``WaitTimeoutError`` with the last state seen."""
    try:
        return await asyncio.wait_for(work, limit)
    except asyncio.TimeoutError:
        logger.warning(
            "gave up waiting for mass action %s after %g s (last seen: %s)",
            seen.bulk_key,
            limit,
            "nothing" if seen.last is None else seen.last.status,
        )
        raise WaitTimeoutError(
            seen.bulk_key, limit, seen.last, last_error=seen.last_error
        ) from seen.last_error


async def _notify(on_outcome: OnOutcome | None, outcome: StopOutcome) -> None:
    if on_outcome is None:
        return
    try:
        result = on_outcome(outcome)
        if inspect.isawaitable(result):
            await result
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("on_outcome raised for mass action %s", outcome.bulk_key)


async def _tell(on_poll: OnPoll | None, action: MassAction) -> None:
    if on_poll is None:
        return
    try:
        result = on_poll(action)
        if inspect.isawaitable(result):
            await result
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("on_poll raised for mass action %s", action.bulk_key)


def poll_intervals(policy: PollPolicy) -> Iterator[float]:
    """The pauses between polls under ``policy``: growing by ``multiplier``
    from ``initial_interval`` up to ``max_interval``, each moved at random by
    up to ``jitter`` either way."""
    interval = policy.initial_interval
    while True:
        if policy.jitter:
            yield interval * random.uniform(1 - policy.jitter, 1 + policy.jitter)
        else:
            yield interval
        interval = min(interval * policy.multiplier, policy.max_interval)


def _count_text(count: int | None) -> str:
    return "?" if count is None else str(count)


def _check_timeout(timeout: float) -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(
            f"timeout must be a finite number of seconds > 0, not {timeout!r}"
        )
    return float(timeout)


def _check_poll(poll: PollPolicy | None) -> PollPolicy:
    if poll is None:
        return PollPolicy()
    if not isinstance(poll, PollPolicy):
        raise TypeError(f"poll must be a PollPolicy, not {type(poll).__name__}")
    return poll


def _check_action_type(action_type: str) -> str:
    if isinstance(action_type, str):
        for known in MASS_ACTION_TYPES:
            if action_type.strip().lower() == known.lower():
                return known
    raise ValueError(
        f"unknown mass action type {action_type!r}; Zuora knows "
        f"{', '.join(MASS_ACTION_TYPES)}"
    )


def _check_idempotency_key(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return str(uuid.uuid4())
    if (
        not isinstance(idempotency_key, str)
        or not idempotency_key
        or len(idempotency_key) > _MAX_IDEMPOTENCY_KEY
        or not idempotency_key.isascii()
        or not idempotency_key.isprintable()
    ):
        raise ValueError(
            "an idempotency key is a non-empty string of printable US-ASCII "
            f"characters, at most {_MAX_IDEMPOTENCY_KEY} long; got {idempotency_key!r}"
        )
    return idempotency_key


def _read_upload(file: UploadFile) -> tuple[bytes, str]:
    """The bytes of a mass action file and the name to upload it under."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        content = bytes(file)
        _check_size(len(content))
        return content, "upload.zip" if _looks_zipped(content) else "upload.csv"

    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        if not os.path.isfile(path):
            raise ValueError(f"no mass action file at {path!r}")
        _check_size(os.path.getsize(path))
        with open(path, "rb") as handle:
            content = handle.read(MAX_UPLOAD_BYTES + 1)
        _check_size(len(content))
        return content, PurePath(path).name

    read = getattr(file, "read", None)
    if not callable(read):
        raise TypeError(
            "file must be a path, bytes, or a binary file object, "
            f"not {type(file).__name__}"
        )
    content = read(MAX_UPLOAD_BYTES + 1)
    if isinstance(content, str):
        raise TypeError("file must be opened in binary mode ('rb'), not text mode")
    _check_size(len(content))
    name = getattr(file, "name", None)
    if isinstance(name, str) and name:
        return bytes(content), PurePath(name).name
    zipped = _looks_zipped(content)
    return bytes(content), "upload.zip" if zipped else "upload.csv"


def _check_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"a mass action file is at most {MAX_UPLOAD_BYTES} bytes (4 MB); "
            f"this one has {size}"
        )


def _looks_zipped(content: bytes) -> bool:
    return content[:4] == b"PK\x03\x04"


def _check_content(content: bytes, filename: str) -> bool:
    """Refuse an empty file or a zip that is not one CSV; True for a zip."""
    if _looks_zipped(content):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                members = [
                    info
                    for info in archive.infolist()
                    if not info.is_dir() and not info.filename.startswith("__MACOSX/")
                ]
                if len(members) != 1 or not members[0].filename.lower().endswith(
                    ".csv"
                ):
                    names = [info.filename for info in members]
                    raise ValueError(
                        f"a zipped mass action file must hold exactly one .csv "
                        f"file; {filename} holds {names!r}"
                    )
                # The start is enough to see a header and a record; reading
                # it all could inflate a small zip to gigabytes.
                with archive.open(members[0]) as inner:
                    start = inner.read(_CHECKED_BYTES)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            # A damaged archive fails where it is damaged: in its directory
            # (BadZipFile) or in the compressed data (zlib.error, EOFError).
            raise ValueError(
                f"{filename} is not a readable zip file: {error}"
            ) from None
        except (NotImplementedError, RuntimeError) as error:
            # An unsupported compression method, or an encrypted member.
            raise ValueError(
                f"{filename} is a zip file Zuora cannot read: {error}"
            ) from None
        _check_records(start, f"the CSV in {filename}")
        return True
    _check_records(content[:_CHECKED_BYTES], filename)
    return False


#: How much of a file is read to check that it has a header and a record.
_CHECKED_BYTES = 256 * 1024


def _check_records(start: bytes, what: str) -> None:
    """Refuse a CSV without a header, or with a header and no record below it.

    ``start`` is the beginning of the file; a file whose first record begins
    beyond it, or that the csv module cannot read, is left for Zuora to judge.
    """
    text = start.decode("utf-8", errors="replace").lstrip("\ufeff")
    rows = (
        row
        for row in csv.reader(io.StringIO(text, newline=""))
        if any(cell.strip() for cell in row)
    )
    try:
        header = next(rows, None)
        record = next(rows, None)
    except csv.Error:
        return
    if header is None:
        raise ValueError(f"{what} is empty: a mass action needs a header and records")
    if record is None and len(start) < _CHECKED_BYTES:
        raise ValueError(
            f"{what} has a header row but no records: a mass action needs at "
            "least one record below the header"
        )


def _read_and_close(download: IO[bytes], bulk_key: str) -> ResponseFile:
    with download:
        return ResponseFile.from_file(download, bulk_key=bulk_key)
