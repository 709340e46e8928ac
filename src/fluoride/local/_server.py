"""moto's threaded server on loopback, wrapped so every request sees the world advanced."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from fluoride.local._errors import log
from fluoride.local._world import WORLD

__all__ = ["EmulatorServer", "reset_everything"]


#: The error code the emulator answers with when moto itself fails on a request.
INTERNAL_ERROR_CODE = "EmulatorInternalError"

StartResponse = Callable[..., Any]


class WorldMiddleware:
    """Serialise requests, advance the emulated world before each, and report moto's bugs.

    moto's backends are not thread-safe, and the emulator's rollouts are evaluated lazily,
    so each request runs alone under :attr:`World.lock` after :meth:`World.advance`.

    An exception escaping moto would become an HTML 500 that botocore retries (slowly,
    several times) before failing with a message that says nothing. Instead the caller
    gets a 400 ``EmulatorInternalError`` naming the exception, at once; the traceback
    goes to the ``fluoride.local`` logger.
    """

    def __init__(
        self,
        app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        account_id: str | None = None,
    ) -> None:
        self.app = app
        self.account_id = account_id

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        if self.account_id is not None:
            # moto serves the account a request names in its ``x-moto-account-id`` header
            # (moto.core.responses.BaseResponse.get_current_account, second after the
            # process-wide MOTO_ACCOUNT_ID variable): set per server, so two emulators in
            # one process serve two accounts whatever the client sends.
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = self.account_id
        with WORLD.lock:
            try:
                WORLD.advance()
                return list(self.app(environ, start_response))
            except Exception as exc:  # every moto failure must reach the caller as an error
                log.exception("emulator: %s %s failed", environ.get("REQUEST_METHOD"),
                              environ.get("PATH_INFO"))
                return _internal_error(environ, start_response, exc)


def _internal_error(
    environ: dict[str, Any], start_response: StartResponse, exc: Exception
) -> list[bytes]:
    message = f"The emulator failed on this request: {type(exc).__name__}: {exc}"
    error = f"<Code>{INTERNAL_ERROR_CODE}</Code><Message>{escape(message)}</Message>"
    content_type_in = str(environ.get("CONTENT_TYPE", ""))
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in content_type_in:  # JSON protocols
        body = json.dumps({"__type": INTERNAL_ERROR_CODE, "message": message}).encode()
        content_type = "application/x-amz-json-1.1"
    elif content_type_in.startswith("application/x-www-form-urlencoded"):  # query protocol
        body = (f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error>"
                "<RequestId>emulator</RequestId></ErrorResponse>").encode()
        content_type = "text/xml"
    else:  # REST-XML (S3, Route 53)
        body = f"<Error>{error}<RequestId>emulator</RequestId></Error>".encode()
        content_type = "application/xml"
    start_response(
        "400 Bad Request",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        sys.exc_info(),
    )
    return [body]


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class EmulatorServer(ThreadedMotoServer):
    """:class:`ThreadedMotoServer` whose WSGI app is wrapped in :class:`WorldMiddleware`."""

    def __init__(self, host: str, port: int, account_id: str | None = None) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._error: BaseException | None = None
        self._account_id = account_id

    def _server_entry(self) -> None:
        try:
            app = WorldMiddleware(DomainDispatcherApplication(create_backend_app),
                                  self._account_id)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=QuietRequestHandler
            )
        except BaseException as exc:  # e.g. the port is taken: report it to start()
            self._error = exc
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)  # stop() returns quickly

    def start(self) -> None:
        super().start()
        if isinstance(self._error, SystemExit):  # werkzeug exits when the port is taken
            raise OSError(f"{self._ip_address}:{self._port} is in use") from self._error
        if self._error is not None:
            raise self._error


_reset_lock = threading.Lock()


def reset_everything() -> None:
    """Empty every moto backend and the emulator's own state."""
    from moto.moto_api._internal.models import moto_api_backend

    with WORLD.lock, _reset_lock:
        moto_api_backend.reset()
