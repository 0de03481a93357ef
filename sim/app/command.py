"""`python -m sim.app`: read the options, then serve the dashboard until Ctrl-C.

The server is Solara's own (a Starlette app run by uvicorn, as `solara run` runs it),
started in this process with the page `sim.app.page`, so the command has one process and
one line for every error, as every command of the project (`sim.errors`). Solara and the
model load only once the options are read: `--help` and a bad option answer at once.

Before serving, the port is tried: one that is taken or not allowed is refused in one
line, exit status 2. Solara's usage reports are switched off (the dashboard never sends
anything anywhere), and it runs in production mode (no reloading of changed files).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import warnings
from typing import NoReturn

from sim.errors import UserError

DESCRIPTION = ("Serve the dashboard: pick a place, a policy and its knobs, run it against the "
               "status quo on the same seeds, and watch the result.")
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
PAGE = "sim.app.page"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, through sim.errors, not usage text
        raise UserError(f"{message} (see python -m sim.app --help)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m sim.app", description=DESCRIPTION)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"the port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"the address to serve on (default {DEFAULT_HOST}, this machine "
                             f"only; 0.0.0.0 serves every network the machine is on)")
    options = parser.parse_args(argv)
    if not 1 <= options.port <= 65535:
        raise UserError(f"--port {options.port} is not a port: give a whole number from 1 to "
                        f"65535")
    return options


def check_port(host: str, port: int) -> None:
    """Refuse a port that is taken or not allowed, before anything heavy loads."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as trial:
            trial.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            trial.bind((host, port))
    except socket.gaierror as error:
        raise UserError(f"--host {host!r} is not an address of this machine ({error.strerror})"
                        ) from None
    except OSError as error:
        raise UserError(f"cannot serve on {host}:{port} ({error.strerror}): choose another "
                        f"--port") from None


def serve(host: str, port: int) -> None:
    """Serve the page with Solara's server until Ctrl-C or SIGTERM."""
    # Solara reads its settings from the environment when it loads: these must come first.
    os.environ["SOLARA_APP"] = PAGE
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    os.environ["SOLARA_MODE"] = "production"
    import uvicorn  # loaded only to serve, so that --help and a bad option answer at once

    # Solara warns, once, that a page served over plain http cannot set a cookie for use in
    # another site's frame; the dashboard is never framed, so the warning says nothing here.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none")

    display_host = f"[{host}]" if ":" in host else host
    print(f"sim: starting the dashboard at http://{display_host}:{port}/ (Ctrl-C stops it)",
          flush=True)
    # uvicorn's own log at warnings only; its graceful stop waits at most 2 s for open pages.
    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                            log_level="warning", log_config=None, timeout_graceful_shutdown=2)
    uvicorn.Server(config).run()


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    check_port(options.host, options.port)
    serve(options.host, options.port)
    return 0
