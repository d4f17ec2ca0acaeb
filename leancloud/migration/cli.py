"""The ``import`` and ``export`` subcommands of ``python -m leancloud``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Optional

from leancloud.errors import LeanCloudError
from leancloud.migration.exporter import run_export
from leancloud.migration.importer import ImportOptions, run_import
from leancloud.migration.remote import Endpoint
from leancloud.migration.sources import ApiSource, DataDirSource, Source, open_source
from leancloud.migration.targets import LocalTarget, RemoteTarget, Target
from leancloud.server.config import DEFAULT_DATA_DIR

__all__ = ["add_commands"]


def _server_flags(parser: argparse.ArgumentParser, prefix: str, what: str) -> None:
    parser.add_argument(f"--{prefix}app-id", metavar="ID", help=f"app id of {what}")
    parser.add_argument(f"--{prefix}master-key", metavar="KEY", help=f"master key of {what}")


def _place_flags(parser: argparse.ArgumentParser, data_help: str, server_help: str) -> None:
    """``--data DIR`` or ``--server URL`` with its keys: where both commands work."""
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"{data_help} (default: ./.leancloud)",
    )
    parser.add_argument("--server", metavar="URL", help=server_help)
    _server_flags(parser, "", "--server")


def add_commands(commands: "argparse._SubParsersAction") -> None:
    """Register ``import`` and ``export`` on the main parser's subcommands."""
    _add_import(commands)
    _add_export(commands)


def _add_import(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser(
        "import",
        help="import a LeanCloud export, a BSON backup or a live app",
        description="Import into a data directory (default) or a running server. Safe to "
        "re-run: existing objects are updated only when the source's updatedAt is newer; an "
        "interrupted import resumes from its checkpoint.",
    )
    parser.add_argument(
        "source",
        nargs="?",
        help="export directory, .tar.gz/.zip archive, or BSON dump (omit with --from)",
    )
    _place_flags(
        parser,
        "target data directory, also where checkpoints live",
        "import into this running server instead",
    )
    parser.add_argument(
        "--from",
        dest="from_url",
        metavar="URL",
        help="copy from a live LeanCloud-compatible API instead of files",
    )
    _server_flags(parser, "from-", "--from")
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would happen, write nothing"
    )
    parser.add_argument(
        "--restart", action="store_true", help="ignore the checkpoint of an interrupted run"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1000,
        metavar="N",
        help="rows per transaction (default: 1000)",
    )
    parser.add_argument(
        "--no-files", action="store_true", help="do not download file contents the export lacks"
    )
    parser.add_argument(
        "--files-domain", metavar="URL", help="LeanCloud file domain, for _File rows without a url"
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="base URL the target server is reached at, for file URLs (--data only;"
        " default: $LEANCLOUD_PUBLIC_URL or http://127.0.0.1:3000)",
    )
    parser.set_defaults(run=import_command)


def _add_export(commands: "argparse._SubParsersAction") -> None:
    parser = commands.add_parser(
        "export",
        help="export a data directory or a running server to JSON Lines",
        description="Write schema.json, <Class>.jsonl, relations/ and files/ under DIR, "
        "the layout `leancloud import` reads.",
    )
    parser.add_argument("directory", metavar="DIR", help="where to write the export")
    _place_flags(parser, "data directory to export", "export this running server instead")
    parser.set_defaults(run=export_command)


def _endpoint(url: str, app_id: Optional[str], master_key: Optional[str], flag: str) -> Endpoint:
    if not app_id or not master_key:
        prefix = "from-" if flag == "--from" else ""
        raise ValueError(f"{flag} needs --{prefix}app-id and --{prefix}master-key")
    return Endpoint(url, app_id, master_key)


def _source(args: argparse.Namespace, scratch: str) -> Source:
    if args.from_url:
        if args.source:
            raise ValueError("give either SOURCE or --from, not both")
        return ApiSource(_endpoint(args.from_url, args.from_app_id, args.from_master_key, "--from"))
    if not args.source:
        raise ValueError("nothing to import: give SOURCE or --from URL")
    return open_source(args.source, scratch)


def _target(args: argparse.Namespace) -> Target:
    if args.server:
        return RemoteTarget(_endpoint(args.server, args.app_id, args.master_key, "--server"))
    return LocalTarget(args.data, args.public_url)


def import_command(args: argparse.Namespace) -> int:
    """Run ``leancloud import``; the exit status is 1 when any row failed."""
    if args.batch_size < 1:
        print("leancloud import: --batch-size must be at least 1", file=sys.stderr)
        return 1
    options = ImportOptions(
        dry_run=args.dry_run,
        batch_size=args.batch_size,
        restart=args.restart,
        fetch_files=not args.no_files,
        files_domain=args.files_domain,
    )
    with tempfile.TemporaryDirectory(prefix="leancloud-import-") as scratch:
        try:
            source = _source(args, scratch)
            target = _target(args)
        except (OSError, ValueError, RuntimeError) as exc:
            print(f"leancloud import: {exc}", file=sys.stderr)
            return 1
        try:
            report = run_import(source, target, args.data, options)
        except (OSError, ValueError, LeanCloudError) as exc:
            print(f"leancloud import: stopped: {exc}; run again to resume", file=sys.stderr)
            return 1
        finally:
            source.close()
            target.close()
    print(report.format())
    return 1 if report.failed else 0


def export_command(args: argparse.Namespace) -> int:
    """Run ``leancloud export``."""
    try:
        if args.server:
            source: Source = ApiSource(
                _endpoint(args.server, args.app_id, args.master_key, "--server")
            )
        else:
            source = DataDirSource(args.data)
    except ValueError as exc:
        print(f"leancloud export: {exc}", file=sys.stderr)
        return 1
    try:
        report = run_export(source, os.path.abspath(args.directory))
    except (OSError, LeanCloudError) as exc:
        print(f"leancloud export: stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        source.close()
    print(report.format())
    return 0
