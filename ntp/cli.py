"""`ntp`: the command line, thin over the library and Airflow."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from generator.cli import add_arguments, run_from_args
from ntp_core.periods import parse_period

warnings.filterwarnings("ignore", module="platformdirs")


def _period(text: str) -> str:
    try:
        return parse_period(text).strftime("%Y-%m")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def cmd_warehouse(args: argparse.Namespace) -> int:
    from ntp_core import warehouse  # noqa: PLC0415 - a subcommand's code loads when it runs
    from ntp_core.settings import load  # noqa: PLC0415 - a subcommand's code loads when it runs

    settings = load()
    if args.action == "init":
        return warehouse.init_from_cli(settings, args.admin_url)
    if args.action == "url":
        if args.bi:
            from ntp.bi import bi_url  # noqa: PLC0415 - a subcommand's code loads when it runs

            print(warehouse.redact(bi_url(warehouse.url(settings, start=False))))
            if not settings.warehouse_url:
                print("(password: NTP_BI_PASSWORD or $NTP_DATA_DIR/bi-password)", file=sys.stderr)
            return 0
        print(warehouse.connection_hint(settings, start=False))
        return 0
    if settings.warehouse_url:
        print("WAREHOUSE_URL is set: the warehouse is external, nothing to start or stop.", file=sys.stderr)
        if args.action == "up":
            warehouse.bootstrap(settings.warehouse_url)
        return 0
    server = warehouse.embedded(settings)
    if args.action == "up":
        server.start()
        warehouse.bootstrap(server.url())
        print(f"embedded warehouse running: {warehouse.connection_hint(settings)}")
    else:
        server.stop()
        print("embedded warehouse stopped")
    return 0


def cmd_bi(args: argparse.Namespace) -> int:
    from ntp.bi import BIError, import_into, serve, setup  # noqa: PLC0415 - a subcommand's code loads when it runs
    from ntp_core.settings import load  # noqa: PLC0415 - a subcommand's code loads when it runs

    try:
        if args.setup:
            return setup()
        if args.import_into:
            return import_into(load(), args.import_into)
        return serve(load(), port=args.port)
    except BIError as err:
        print(f"ntp bi: {err}", file=sys.stderr)
        return 2


def cmd_airflow_ui(args: argparse.Namespace) -> int:
    from ntp.orchestrate import airflow_ui  # noqa: PLC0415 - a subcommand's code loads when it runs

    return airflow_ui(port=args.port)


def cmd_run(args: argparse.Namespace) -> int:
    from ntp.orchestrate import run_month  # noqa: PLC0415 - a subcommand's code loads when it runs

    return run_month(args.period, inbox=args.inbox, force_alert=args.force_alert)


def cmd_backfill(args: argparse.Namespace) -> int:
    from ntp.orchestrate import backfill  # noqa: PLC0415 - a subcommand's code loads when it runs

    return backfill(args.start, args.end, inbox=args.inbox)


def cmd_findings(args: argparse.Namespace) -> int:
    from alerts.findings import print_findings  # noqa: PLC0415 - a subcommand's code loads when it runs

    province = args.province.zfill(2) if args.province else None
    return print_findings(args.period, fmt=args.format, out=sys.stdout, language=args.language, province=province)


def cmd_score(args: argparse.Namespace) -> int:
    from ntp.scoring import run_score  # noqa: PLC0415 - a subcommand's code loads when it runs

    return run_score(args.truth, args.period, provinces=args.provinces, fmt=args.format, out=sys.stdout)


def cmd_demo(args: argparse.Namespace) -> int:
    from ntp.demo import run_demo  # noqa: PLC0415 - a subcommand's code loads when it runs

    return run_demo(periods=args.periods, provinces=args.provinces)


def cmd_generate(args: argparse.Namespace) -> int:
    return run_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ntp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("warehouse", help="start/stop the embedded warehouse, print its URL, set up roles (init)")
    p.add_argument("action", choices=["up", "down", "url", "init"])
    p.add_argument("--bi", action="store_true", help="url: the read-only BI role's URL (ntp_bi), without password")
    p.add_argument(
        "--admin-url",
        help="init: an administrator's connection (no password in it: NTP_ADMIN_PASSWORD or a PGPASSFILE); "
        "creates the pipeline role, the database and ntp_bi once",
    )
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("bi", help="start Superset on the marts as ntp_bi, with the dashboards of bi/ (make bi)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default NTP_BI_PORT, else 8088 if free)")
    p.add_argument("--import-into", metavar="URL", help="only import the dashboards into a running Superset")
    p.add_argument("--setup", action="store_true", help="only build Superset's environment and metadata template")
    p.set_defaults(func=cmd_bi)

    p = sub.add_parser("airflow-ui", help="the Airflow UI on the runs `ntp run` made (make airflow-ui)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default a free one)")
    p.set_defaults(func=cmd_airflow_ui)

    p = sub.add_parser("run", help="run the monthly pipeline (the Airflow DAG ntp_monthly) for one month")
    p.add_argument("--period", required=True, type=_period, help="report month, YYYY-MM")
    p.add_argument("--inbox", help="folder of delivered files (default $NTP_DATA_DIR/inbox)")
    p.add_argument("--force-alert", action="store_true", help="send the alert again even if already sent")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("backfill", help="run ntp_monthly for each past month of a range, oldest first")
    p.add_argument("--from", dest="start", required=True, type=_period, help="first month, YYYY-MM")
    p.add_argument("--to", dest="end", required=True, type=_period, help="last month, YYYY-MM")
    p.add_argument("--inbox", help="folder of delivered files (default $NTP_DATA_DIR/inbox)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("findings", help="the quality findings of one month")
    p.add_argument("--period", required=True, type=_period)
    p.add_argument("--province", help="one province (GSO code)")
    p.add_argument("--language", choices=["vi", "en"], default="vi")
    p.add_argument(
        "--format",
        choices=["table", "csv", "json", "xlsx"],
        default="table",
        help="xlsx: the province's findings workbook (binary, to stdout: redirect it to a file)",
    )
    p.set_defaults(func=cmd_findings)

    p = sub.add_parser("score", help="recall and precision per rule against a generator ground truth")
    p.add_argument("--truth", required=True, help="ground_truth.csv written by `ntp generate`")
    p.add_argument("--period", required=True, help="YYYY-MM or YYYY-MM:YYYY-MM")
    p.add_argument("--provinces", default="all", help="the generated provinces (GSO codes), default all")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("demo", help="generate sample reports and run the pipeline for a few months")
    p.add_argument("--periods", default="2024-01:2024-03", help="YYYY-MM or YYYY-MM:YYYY-MM")
    p.add_argument("--provinces", default="all", help="all, or GSO codes like 11,49")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("generate", help="write sample monthly reports with planted discrepancies")
    add_arguments(p)
    p.set_defaults(func=cmd_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ntp_core.warehouse import WarehouseError  # noqa: PLC0415 - psycopg loads after the arguments parse

    try:
        return int(args.func(args) or 0)
    except WarehouseError as err:
        print(f"ntp: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ntp findings … | head`: the reader left; stop quietly, like other CLI tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
