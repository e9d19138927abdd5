"""`Sandbox`: the server in a background thread plus the Python API tests drive it with."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.dump import dump_state
from reconciler.sandbox.http.server import SandboxHTTPServer
from reconciler.sandbox.pipeline.faults import Fault
from reconciler.sandbox.pipeline.flow import Pipeline
from reconciler.sandbox.pipeline.rate_limiter import RateLimiter
from reconciler.sandbox.pipeline.recording import Exchange, Recorder, RequestRecord
from reconciler.sandbox.population import Population
from reconciler.sandbox.rules.names import check_app
from reconciler.sandbox.seed import load_seed
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.world.clock import Clock
from reconciler.sandbox.world.scopes import SecretRecord
from reconciler.sandbox.world.state import World


class Sandbox(Population, Settings):
    """A GitHub secrets API on 127.0.0.1, started by `with Sandbox(cfg) as sb:`.

    Besides secrets it speaks variables, deployment environments and their secrets and
    variables (Python API: `variables`, `put_variable`, `environments`,
    `create_environment`, `environment_secrets`, ... in `settings.py`), GitHub App auth
    (JWTs, installations, installation tokens), the contents API with branches, and issue
    comments; their Python API (`add_app`, `put_file`, `file`, `add_issue`, `comments`,
    ...) is in `population.py`.
    """

    def __init__(self, config: SandboxConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or SandboxConfig()
        self.world = World(
            clock or Clock(), selection_bumps_updated_at=self.config.selection_bumps_updated_at
        )
        self.world.apps.token_ttl = self.config.installation_token_ttl
        self.pipeline = Pipeline(
            self.world, RateLimiter(self.config.rate_limit), self.config.admin_token
        )
        self._recorder = Recorder(
            record_exchanges=self.config.record_exchanges, latency=self.config.latency
        )
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        address = (self.config.host, self.config.port)
        self._server = SandboxHTTPServer(address, self.pipeline, self._recorder)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() waits up to one poll interval
            name="reconciler-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The root URL; the GHES layout answers at `url + "/api/v3"` too."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://{self._server.authority}"

    @property
    def token(self) -> str:
        return self.config.admin_token

    @property
    def clock(self) -> Clock:
        """The clock stamping writes and judging JWT and installation-token expiry."""
        return self.world.clock

    # -- organisations, repositories, tokens ----------------------------------------------

    def add_org(self, login: str) -> int:
        return self.world.add_org(login).id

    def add_repo(self, full_name: str, *, private: bool = False) -> int:
        return self.world.add_repo(full_name, private=private).id

    def add_token(
        self,
        token: str,
        permissions: Mapping[str, str],
        *,
        login: str | None = None,
        integration: bool = False,
    ) -> None:
        """`login`: the user the token acts as; `integration`: a workflow's GITHUB_TOKEN
        (see `Authenticator.add_token`)."""
        self.pipeline.add_token(token, permissions, login=login, integration=integration)

    # -- secrets --------------------------------------------------------------------------

    def put_secret(
        self,
        scope: str,
        app: str,
        name: str,
        value: bytes,
        *,
        visibility: str | None = None,
        selected: Iterable[str] | None = None,
    ) -> None:
        """Store a plaintext value directly; org secrets default to visibility `all`."""
        with self.world.lock:
            target = self.world.scope(scope)
            visibility, ids = self._sharing(target, visibility, selected)
            self.world.put_secret(target, app, name, value, visibility=visibility, selected=ids)

    def delete_secret(self, scope: str, app: str, name: str) -> None:
        with self.world.lock:
            self.world.delete_secret(self.world.scope(scope), app, name)

    def secrets(self, scope: str, app: str) -> dict[str, SecretRecord]:
        with self.world.lock:
            target = self.world.scope(scope)
            return {s.name: self.world.record(target, s) for s in self.world.secrets(target, app)}

    def public_key(self, scope: str, app: str) -> tuple[str, str]:
        with self.world.lock:
            pair = self.world.scope(scope).keys[check_app(app)]
            return pair.key_id, pair.public_b64

    def rotate_key(self, scope: str, app: str) -> tuple[str, str]:
        """A new key pair for the scope; values sealed for the old key_id get a 422."""
        with self.world.lock:
            self.world.scope(scope).keys[check_app(app)].rotate()
        return self.public_key(scope, app)

    # -- observing and disturbing ---------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self._recorder.requests()

    @property
    def exchanges(self) -> list[Exchange]:
        return self._recorder.exchanges()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of sandbox bugs (each answered as a 500); empty in a healthy run."""
        return self._recorder.errors()

    def clear_requests(self) -> None:
        self._recorder.clear()

    @property
    def peak_concurrency(self) -> int:
        return self._recorder.flight.peak

    def reset_peak_concurrency(self) -> None:
        self._recorder.flight.reset()

    def set_latency(self, seconds: float) -> None:
        self._recorder.latency = seconds

    def add_fault(self, fault: Fault) -> None:
        self.pipeline.faults.add(fault)

    def clear_faults(self) -> None:
        self.pipeline.faults.clear()

    # -- seed and dump --------------------------------------------------------------------

    def load_seed(self, data: Mapping[str, Any]) -> None:
        """Load a seed (the format is in `seed.py`); anything malformed is a `SeedError`."""
        load_seed(self.world, self.pipeline.auth, data)

    def dump_state(self) -> dict[str, Any]:
        """The world as a seed that loads back; the admin token is configuration, not state."""
        tokens = {t: p for t, p in self.pipeline.tokens().items() if t != self.token}
        return dump_state(self.world, tokens)
