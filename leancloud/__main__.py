"""``python -m leancloud serve`` (or the ``leancloud`` console script).

``serve`` with no flags keeps its data in ``./.leancloud/``, generates the app's keys
on the first start (persisted in ``.leancloud/config.json``, mode 0600) and prints
what a client needs to connect.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import List, Optional

from leancloud.server.config import DEFAULT_DATA_DIR, DEFAULT_HOOK_TIMEOUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leancloud", description="LeanCloud-compatible tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the self-hosted REST server")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=3000,
        help="port to listen on (default: 3000; 0 = any free port)",
    )
    serve.add_argument(
        "--data",
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help="data directory (default: ./.leancloud)",
    )
    for name in ("app-id", "app-key", "master-key", "hook-key"):
        serve.add_argument(
            f"--{name}", help=f"use this {name.replace('-', ' ')} instead of the persisted one"
        )
    engine = serve.add_mutually_exclusive_group()
    engine.add_argument(
        "--engine-url", metavar="URL", help="the app's LeanEngine, for cloud functions and hooks"
    )
    engine.add_argument(
        "--engine-app",
        metavar="MODULE:ENGINE",
        help="a Python leancloud.Engine to run in this process, e.g. wsgi:engine",
    )
    serve.add_argument(
        "--hook-timeout",
        type=float,
        metavar="SECONDS",
        help="how long a cloud function or hook may take "
        f"(default: $LEANCLOUD_HOOK_TIMEOUT, else {DEFAULT_HOOK_TIMEOUT:g})",
    )
    serve.set_defaults(run=serve_command)
    outbox = commands.add_parser("outbox", help="show the mail and SMS kept in the outbox")
    outbox.add_argument("--data", default=DEFAULT_DATA_DIR, metavar="DIR", help="data directory")
    outbox.add_argument("--to", help="only messages to this email address or phone number")
    outbox.add_argument("--limit", type=int, default=20, help="newest N messages (default: 20)")
    outbox.set_defaults(run=outbox_command)
    from leancloud.migration.cli import add_commands as add_migration_commands

    add_migration_commands(commands)
    return parser


def connect_instructions(
    url: str, app_id: str, app_key: str, master_key: str, hook_key: str
) -> str:
    """What a user pastes to point an app (ours or the official SDK) at this server."""
    return "\n".join(
        [
            "Connect your app with:",
            f"  LEANCLOUD_API_SERVER={url}",
            f'  leancloud.init("{app_id}", "{app_key}", master_key="{master_key}", hook_key="{hook_key}")',
            "or, in a shell, set the environment our SDK reads when init() was not called:",
            f"  export LEANCLOUD_API_SERVER={url} LEANCLOUD_APP_ID={app_id} LEANCLOUD_APP_KEY={app_key}",
        ]
    )


def serve_command(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from leancloud.server import create_app
    from leancloud.server.hooks.client import share_sdk_with_engine

    try:
        app = create_app(
            args.data,
            app_id=args.app_id,
            app_key=args.app_key,
            master_key=args.master_key,
            hook_key=args.hook_key,
            engine_url=args.engine_url,
            engine_app=args.engine_app,
            hook_timeout=args.hook_timeout,
        )
        server = make_server(args.host, args.port, app, threaded=True)
    except (OSError, ValueError) as exc:  # unusable data dir or key (werkzeug reports ports)
        print(f"leancloud serve: {exc}", file=sys.stderr)
        return 1
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    url = f"http://{shown_host}:{server.port}"
    config = app.config
    if args.engine_app:
        share_sdk_with_engine(url, config)
    print(f"LeanCloud-compatible server on {url} (data in {config.data_dir})")
    print(
        connect_instructions(
            url, config.app_id, config.app_key, config.master_key, config.hook_key
        ),
        flush=True,
    )

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever() to return, so it cannot run on its thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        close = getattr(app.storage, "close", None)
        if close is not None:
            close()
    print("Server stopped.", flush=True)
    return 0


def outbox_command(args: argparse.Namespace) -> int:
    from leancloud.server import DATABASE_FILE
    from leancloud.server.errors import ApiError
    from leancloud.server.services.messaging import format_message, outbox
    from leancloud.server.storage.sqlite import SQLiteStorage

    path = os.path.join(args.data, DATABASE_FILE)
    if not os.path.isfile(path):
        print(f"leancloud outbox: no server data in {args.data}", file=sys.stderr)
        return 1
    storage = SQLiteStorage(path)
    try:
        rows = outbox(storage, args.to, args.limit)
    except ApiError as exc:
        print(f"leancloud outbox: {exc.message}", file=sys.stderr)
        return 1
    finally:
        storage.close()
    for row in rows:
        print(format_message(row))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
