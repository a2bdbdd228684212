"""Serve the simulator over real sockets: a threaded stdlib WSGI server that can also hang up."""

import logging
import socketserver
import sys
import threading
from typing import IO, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer
from wsgiref.types import WSGIApplication

from sii.simulator.wsgi import DropConnection

logger = logging.getLogger("sii.simulator")
WsgiApp = WSGIApplication


class _Handler(ServerHandler):
    """wsgiref's handler, except that DropConnection leaves the socket without any response."""

    dropped = False
    request_handler: WSGIRequestHandler  # set by the request handler, as wsgiref's own does: used for logging

    def handle_error(self) -> None:
        # Called from inside wsgiref's `except:` block, so sys.exc_info() is the app's exception.
        if isinstance(sys.exc_info()[1], DropConnection):
            self.dropped = True
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    def handle(self) -> None:
        """WSGIRequestHandler.handle with our handler class (and multithread=True)."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        wfile = cast(IO[bytes], self.wfile)  # a socket writer; typeshed types it more loosely
        handler = _Handler(self.rfile, wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())  # type: ignore[attr-defined]  # a WSGIServer, typed as BaseServer
        if handler.dropped:
            self.close_connection = True  # the server then closes the socket: the client sees EOF

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hung request must not keep the process alive on shutdown
    allow_reuse_address = True
    request_queue_size = 256  # a night's workers connect by the dozen; socketserver's 5 would refuse them


def make_server(app: WsgiApp, host: str = "127.0.0.1", port: int = 8001) -> ThreadingWSGIServer:
    server = ThreadingWSGIServer((host, port), _RequestHandler)
    server.set_app(app)
    return server


def serve_in_thread(app: WsgiApp, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingWSGIServer, str]:
    """Run the app on a (by default free) port in a daemon thread; stop it with server.shutdown()."""
    server = make_server(app, host, port)
    threading.Thread(target=server.serve_forever, name="sii-simulator", daemon=True).start()
    bound_host, bound_port = server.socket.getsockname()[:2]  # what server_address holds, typed as str
    return server, f"http://{bound_host}:{bound_port}"
