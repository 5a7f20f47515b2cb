"""The floor the emulator is measured against: the same stdlib server, no work.

``ThreadingHTTPServer`` with an HTTP/1.1 keep-alive handler that reads the
request body and answers a fixed JSON body the size of a status answer. With
``--split-writes`` it sends the head and the body in two writes with Nagle's
algorithm left on, the way a stock ``BaseHTTPRequestHandler`` does, to show
the delayed-ACK stall the emulator avoids. Prints its base URL first and
serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY = (
    b'{"log_id":"1234567890","result":{"id":305,"exportID":96,'
    b'"exportIDStr":"amemt-hkkf5y9e64j8","state":"Done","exportType":"storage",'
    b'"volumeId":"modelrepo-test","exportPath":"qianfan_modelrepo_offline/'
    b'workspace/model_eval_result_export/cl_test23_305_1704338430470.csv",'
    b'"downloadUrl":""}}'
)


class OneWrite(BaseHTTPRequestHandler):
    """Head and body in one write, ``TCP_NODELAY`` on: what the emulator does."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(BODY)}\r\nConnection: keep-alive\r\n\r\n"
        ).encode("latin-1")
        self.wfile.write(head + BODY)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class SplitWrites(OneWrite):
    """Head, then body, Nagle on: the stock handler's pattern."""

    disable_nagle_algorithm = False

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split-writes", action="store_true")
    handler = SplitWrites if parser.parse_args().split_writes else OneWrite
    server = _Server(("127.0.0.1", 0), handler)
    signal.signal(
        signal.SIGTERM,
        lambda *_: threading.Thread(target=server.shutdown, daemon=True).start(),
    )
    print(f"http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever(poll_interval=0.05)
    server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
