"""python manage.py run_sii_simulator: serve the SII simulator until SIGINT/SIGTERM."""

import signal
import threading
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sii.simulator.app import SiiSimulator
from sii.simulator.latency import Latency
from sii.simulator.server import make_server


class Command(BaseCommand):
    help = "Serve the SII simulator (zeusr, www4 and loa paths on one host) with a threaded WSGI server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--latency",
            type=float,
            default=None,
            help="Seconds each SII request takes, give or take half (default: SII_SIMULATOR_LATENCY, 0).",
        )

    def handle(self, *args: object, host: str, port: int, latency: float | None, **options: object) -> None:
        delay = _latency(settings.SII_SIMULATOR_LATENCY if latency is None else latency)
        server = make_server(SiiSimulator(latency=delay), host, port)
        stop = _stop_on_signals()
        # serve_forever runs in a thread because shutdown() must be called from another thread.
        worker = threading.Thread(target=server.serve_forever, name="sii-simulator", daemon=True)
        worker.start()
        self.stdout.write(
            f"SII simulator listening on http://{host}:{server.server_address[1]}"
            f" ({delay.seconds:g} s latency per request)"
        )
        stop.wait()
        server.shutdown()
        server.server_close()
        self.stdout.write("SII simulator stopped.")


def _latency(seconds: float) -> Latency:
    try:
        return Latency(seconds)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _stop_on_signals() -> threading.Event:
    """An event SIGINT and SIGTERM set; installed before serving so an early signal still stops cleanly."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop
