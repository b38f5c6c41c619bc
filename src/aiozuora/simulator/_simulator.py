"""ZuoraSimulator: a local Zuora tenant for tests, examples and demos."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import TypeGuard

from aiohttp import web

from .._models import MassActionStatus, validate_bulk_key
from ._app import Options, RecordedRequest, Tenant
from ._faults import Fault
from ._files import ACTION_TYPES, synthetic_records
from ._state import ActionSnapshot, Timing, new_rng

__all__ = ["ZuoraSimulator"]

_SHUTDOWN_TIMEOUT = 0.5


def _check_seconds(name: str, value: object, *, allow_inf: bool = False) -> float:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or math.isnan(value)
        or value < 0
        or (math.isinf(value) and not allow_inf)
    ):
        bound = (
            "a number >= 0 (math.inf allowed)" if allow_inf else "a finite number >= 0"
        )
        raise ValueError(f"{name} must be {bound}, not {value!r}")
    return float(value)


def _check_rate(value: object) -> float:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not 0 <= value <= 1
    ):
        raise ValueError(f"failure_rate must be a fraction from 0 to 1, not {value!r}")
    return float(value)


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_count(name: str, value: object) -> int:
    if not _whole(value) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    return value


def _check_status(status: object) -> MassActionStatus:
    if isinstance(status, MassActionStatus):
        return status
    if isinstance(status, str):
        for member in MassActionStatus:
            if status.lower() in (member.value.lower(), member.name.lower()):
                return member
    names = ", ".join(member.value for member in MassActionStatus)
    raise ValueError(f"status must be one of {names}; got {status!r}")


class ZuoraSimulator:
    """A real HTTP server on loopback that behaves like a Zuora tenant.

    It serves ``POST /oauth/token``, ``POST /v1/bulk``, ``GET /v1/bulk/{key}``,
    ``PUT /v1/bulk/{key}/stop`` and ``GET /v1/files/{id}`` with Zuora's shapes,
    headers and limits. Mass actions move through their states as the clock
    advances: ``pending_seconds`` after upload they start Processing at
    ``records_per_second``, a deterministic ``failure_rate`` share of records
    fails, and a stop takes ``stopping_seconds``. Nothing runs in the
    background: every answer is computed from ``clock()`` when asked for, so a
    test can pass its own clock and move time by hand.

    ``inject(Fault(...))`` makes the next matching requests fail; ``requests``
    lists every request received. ``output_host`` (e.g. ``"localhost"``) puts
    response files on another origin, downloadable without Authorization like
    a signed storage URL.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_ttl: float = 3600.0,
        pending_seconds: float = 1.0,
        records_per_second: float = 100.0,
        stopping_seconds: float = 0.5,
        failure_rate: float = 0.05,
        concurrency_limit: int = 40,
        latency: float = 0.0,
        output_host: str | None = None,
        seed: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not isinstance(host, str) or not host:
            raise ValueError(f"host must be a host name or address, not {host!r}")
        if not _whole(port) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) to 65535, not {port!r}")
        if client_id is not None and (not isinstance(client_id, str) or not client_id):
            raise ValueError("client_id must be a non-empty string or None")
        if client_secret is not None and (
            not isinstance(client_secret, str) or not client_secret
        ):
            raise ValueError("client_secret must be a non-empty string or None")
        if _check_seconds("token_ttl", token_ttl) <= 0:
            raise ValueError(f"token_ttl must be > 0, not {token_ttl!r}")
        if (
            _check_seconds("records_per_second", records_per_second, allow_inf=True)
            <= 0
        ):
            raise ValueError(
                f"records_per_second must be > 0, not {records_per_second!r}"
            )
        if not _whole(concurrency_limit) or concurrency_limit < 1:
            raise ValueError(
                "concurrency_limit must be a whole number >= 1, "
                f"not {concurrency_limit!r}"
            )
        if output_host is not None and (
            not isinstance(output_host, str) or not output_host or "/" in output_host
        ):
            raise ValueError(
                "output_host must be a host name such as 'localhost', "
                f"not {output_host!r}"
            )
        if not _whole(seed):
            raise ValueError(f"seed must be an integer, not {seed!r}")
        if clock is not None and not callable(clock):
            raise ValueError("clock must be a callable returning seconds, or None")

        self._host = host
        self._port = port
        self._clock = clock or time.monotonic
        self._epoch = time.time() - self._clock()
        self._options = Options(
            client_id=client_id or str(uuid.uuid4()),
            client_secret=client_secret or secrets.token_hex(20),
            token_ttl=float(token_ttl),
            timing=Timing(
                pending_seconds=_check_seconds(
                    "pending_seconds", pending_seconds, allow_inf=True
                ),
                records_per_second=float(records_per_second),
                stopping_seconds=_check_seconds(
                    "stopping_seconds", stopping_seconds, allow_inf=True
                ),
                failure_rate=_check_rate(failure_rate),
            ),
            concurrency_limit=concurrency_limit,
            latency=_check_seconds("latency", latency),
            output_host=output_host,
            seed=seed,
        )
        self._tenant = Tenant(self._options, self._clock, self._wall)
        self._runner: web.AppRunner | None = None
        self._seeded = 0

    # -- life cycle ------------------------------------------------------------

    async def start(self) -> None:
        """Start serving; ``base_url`` is known from here on."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        self._tenant.closing.clear()
        runner = web.AppRunner(
            self._tenant.application(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self._tenant.port = port
        self._tenant.base_url = f"http://{_url_host(self._host)}:{port}"

    async def close(self) -> None:
        """Stop serving. Delayed requests still in flight are dropped at once."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._tenant.closing.set()
        await asyncio.sleep(0)
        await runner.cleanup()

    async def __aenter__(self) -> ZuoraSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run_forever(self) -> None:
        """Serve until cancelled (Ctrl-C when run as a program), then close."""
        if self._runner is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()

    # -- what a client needs ---------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, once started."""
        if not self._tenant.base_url:
            raise RuntimeError("the simulator has not been started yet")
        return self._tenant.base_url

    @property
    def port(self) -> int:
        return self._tenant.port

    @property
    def client_id(self) -> str:
        return self._options.client_id

    @property
    def client_secret(self) -> str:
        return self._options.client_secret

    def __repr__(self) -> str:
        where = self._tenant.base_url or "not started"
        return f"ZuoraSimulator({where}, client_id={self.client_id!r})"

    # -- the tenant's state ----------------------------------------------------

    def now(self) -> float:
        """The simulator's clock."""
        return self._clock()

    def _wall(self, instant: float) -> float:
        return self._epoch + instant

    def seed_action(
        self,
        status: MassActionStatus | str = MassActionStatus.PROCESSING,
        *,
        total: int = 100,
        processed: int | None = None,
        action_type: str = "UpdateAccountingCode",
        bulk_key: str | None = None,
        records_per_second: float | None = None,
        stopping_seconds: float | None = None,
        pending_seconds: float | None = None,
        failure_rate: float | None = None,
    ) -> str:
        """Create a mass action that is in ``status`` now, without an upload.

        Its records are synthetic rows of ``action_type``. ``processed`` is how
        many records are done (default: none while Pending, half while
        Processing, Stopping or Stopped, all when Completed). From here the
        action moves on like an uploaded one, with these timings (default: the
        simulator's). ``math.inf`` as ``pending_seconds`` or
        ``stopping_seconds`` keeps it in that state. Stopped and Completed
        actions have a response file. Returns the bulk key.
        """
        state = _check_status(status)
        _check_count("total", total)
        if processed is not None:
            _check_count("processed", processed)
            if processed > total:
                raise ValueError(
                    f"processed ({processed}) must not exceed total ({total})"
                )
            if state is MassActionStatus.PENDING and processed:
                raise ValueError("a Pending mass action has processed no records")
            if state is MassActionStatus.FAILED and processed:
                raise ValueError("a Failed mass action has processed no records")
            if state is MassActionStatus.COMPLETED and processed != total:
                raise ValueError(
                    "a Completed mass action has processed every record: "
                    f"processed must equal total ({total}) or be None"
                )
            if state is MassActionStatus.PROCESSING and processed == total and total:
                raise ValueError(
                    "a Processing mass action has records left: processed must be "
                    f"less than total ({total})"
                )
        if action_type not in ACTION_TYPES:
            raise ValueError(
                f"action_type must be one of {', '.join(ACTION_TYPES)}; "
                f"got {action_type!r}"
            )
        if bulk_key is not None:
            validate_bulk_key(bulk_key)
            if bulk_key in self._tenant.actions:
                raise ValueError(
                    f"a mass action with bulk key {bulk_key} already exists"
                )
        if total == 0 and state in (
            MassActionStatus.PROCESSING,
            MassActionStatus.STOPPING,
        ):
            raise ValueError(f"a {state.value} mass action needs total >= 1")
        base = self._options.timing
        timing = Timing(
            pending_seconds=base.pending_seconds
            if pending_seconds is None
            else _check_seconds("pending_seconds", pending_seconds, allow_inf=True),
            records_per_second=base.records_per_second
            if records_per_second is None
            else _check_seconds(
                "records_per_second", records_per_second, allow_inf=True
            ),
            stopping_seconds=base.stopping_seconds
            if stopping_seconds is None
            else _check_seconds("stopping_seconds", stopping_seconds, allow_inf=True),
            failure_rate=base.failure_rate
            if failure_rate is None
            else _check_rate(failure_rate),
        )
        if processed is None:
            processed = {
                MassActionStatus.PROCESSING: total // 2,
                MassActionStatus.STOPPING: total // 2,
                MassActionStatus.STOPPED: total // 2,
                MassActionStatus.COMPLETED: total,
            }.get(state, 0)

        self._seeded += 1
        rng = new_rng(self._options.seed, "seed", self._seeded)
        key = bulk_key or f"{rng.getrandbits(128):032x}"
        if key in self._tenant.actions:
            key = self._tenant.new_key()
        now = self._clock()
        rate = timing.records_per_second
        # How long ago the records already done would have started, for the
        # timestamps Zuora shows; the state itself only depends on `base_at`.
        ran = processed / rate if rate > 0 and math.isfinite(rate) else 0.0
        created = (
            now
            if state is MassActionStatus.PENDING
            else now - ran - min(timing.pending_seconds, 1.0)
        )
        action = self._tenant.add_action(
            bulk_key=key,
            action_type=action_type,
            timing=timing,
            created_at=created,
            records=lambda: synthetic_records(action_type, total, rng),
            total=total,
        )
        if state is MassActionStatus.PENDING:
            return key
        action.started_at = now - ran
        action.base = processed
        action.base_at = now
        if state is MassActionStatus.FAILED:
            action.started_at = now
            action.failure_reason = "The mass action failed."
        elif state is MassActionStatus.STOPPING:
            action.stop(now, MassActionStatus.PROCESSING, processed)
        elif state is MassActionStatus.STOPPED:
            action.stop(now, MassActionStatus.PROCESSING, processed, stopped_at=now)
        return key

    def action(self, bulk_key: str) -> ActionSnapshot:
        """What the simulator knows about one mass action right now."""
        found = self._tenant.actions.get(bulk_key)
        if found is None:
            raise ValueError(
                f"the simulator has no mass action with bulk key {bulk_key!r}"
            )
        return found.snapshot(self._clock())

    @property
    def bulk_keys(self) -> list[str]:
        """Every mass action's bulk key, in the order they were created."""
        return list(self._tenant.actions)

    def response_file(self, bulk_key: str) -> bytes | None:
        """The zipped response file of a mass action, or None while it has none."""
        self.action(bulk_key)
        return self._tenant.actions[bulk_key].response_zip(self._clock())

    # -- faults and the request log --------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        """Make the next matching requests fail as ``fault`` says."""
        return self._tenant.faults.add(fault)

    def clear_faults(self) -> None:
        self._tenant.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The injected faults that still have hits left."""
        return self._tenant.faults.pending

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (HTTP 401)."""
        self._tenant.expire_tokens()

    def revoke_client(self) -> None:
        """Refuse the client's credentials from now on, and every token issued."""
        self._tenant.revoked = True
        self._tenant.expire_tokens()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first."""
        return self._tenant.requests


def _url_host(host: str) -> str:
    """The host to put in ``base_url`` for a listening address.

    A wildcard address listens everywhere but cannot be connected to by that
    name on every system, and clients allow http:// only for loopback hosts:
    the URL names this machine's loopback address instead.
    """
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
