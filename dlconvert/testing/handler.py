"""The HTTP side of the fake server: the request handler (which injects the faults), request bodies
and answers."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import io
import json
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .faults import Drop, Fault, HttpError, RequestRecord

if TYPE_CHECKING:
    from .server import FakeDataloop

__all__ = ["API_PREFIX", "Server", "dump", "image_size", "json_body", "make_handler", "ok", "parse_multipart"]

API_PREFIX = "/api/v1"


def dump(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def ok(value: Any) -> tuple[int, bytes, dict]:
    return 200, dump(value), {"Content-Type": "application/json"}


def json_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise HttpError(400, f"invalid JSON body: {exc}") from None


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes | str, str | None]]:
    """``{field: (value, filename)}`` of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise HttpError(400, f"expected multipart/form-data, got {content_type!r}")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    out: dict[str, tuple[bytes | str, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        out[name] = (payload, filename) if filename is not None else (payload.decode("utf-8"), None)
    return out


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # not an image the header reader knows: no size, as the platform would do
        return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def make_handler(server: FakeDataloop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # an idle keep-alive connection is closed after this

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            return

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    line = self.rfile.readline(65537).strip()
                    size = int(line.split(b";")[0] or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(65537).strip():
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline(3)
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            with server._lock:
                server._active += 1
            try:
                self._serve_one()
            finally:
                with server._lock:
                    server._active -= 1

        def _serve_one(self) -> None:
            method = self.command
            body = self._body()
            short = urlsplit(self.path).path
            short = short[len(API_PREFIX):] if short.startswith(API_PREFIX) else short
            with server._lock:
                over = len(server.log) >= server.max_requests
            chosen = None if over else server._choose_fault(method, short, body)
            kind = chosen[1] if chosen else None
            fault = chosen[0] if chosen else None
            status: int | None = None
            try:
                if over:
                    raise HttpError(503, "request budget of the fake server exhausted")
                if kind == "drop":
                    raise Drop()
                if kind == "error":
                    raise HttpError(pick_status(server, fault), "injected fault")
                if kind == "delay":
                    time.sleep(fault.delay)
                if kind in ("timeout", "timeout-after"):
                    time.sleep(fault.stall)  # the client gives up meanwhile
                if kind == "timeout":
                    raise Drop()
                try:
                    status, payload, headers = server._handle(method, self.path, self.headers, body)
                except HttpError:
                    if kind in ("error-after", "drop-after"):
                        kind = None  # the work failed on its own: answer that
                    raise
                if kind in ("drop-after", "timeout-after"):
                    raise Drop()
                if kind == "error-after":
                    raise HttpError(pick_status(server, fault), "injected fault (after the work was done)")
            except Drop:
                with server._lock:
                    server.log.append(RequestRecord(method, short, None, kind))
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            except HttpError as exc:
                status, payload, headers = exc.status, dump({"status": exc.status, "message": exc.message}), {
                    "Content-Type": "application/json"}
            except Exception as exc:  # a bug in the fake server: answer 500 and say so
                status, payload, headers = 500, dump({"status": 500, "message": f"fake server error: {exc!r}"}), {
                    "Content-Type": "application/json"}
            with server._lock:
                server.log.append(RequestRecord(method, short, status, kind))
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(payload)
            except OSError:  # the client gave up (timeout) or the connection broke
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


def pick_status(server: FakeDataloop, fault: Fault | None) -> int:
    if fault is None:
        return 500
    if isinstance(fault.status, int):
        return fault.status
    with server._lock:
        return server.rng.choice(fault.status)

