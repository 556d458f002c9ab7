"""`ntp generate`: command-line glue over `generator.generate`."""

from __future__ import annotations

import argparse
import sys
import time

from ntp_core.periods import period_range


def _scale(text: str) -> str:
    if text in ("small", "national"):
        return text
    if text.isdigit() and int(text) >= 1:
        return text
    raise argparse.ArgumentTypeError(f"scale must be small, national or a positive integer, not {text!r}")


def _periods(text: str) -> str:
    try:
        period_range(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return text


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"plant rate must be a number between 0 and 1, not {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (one sub-folder per month)")
    parser.add_argument("--periods", required=True, type=_periods, help="YYYY-MM or YYYY-MM:YYYY-MM")
    parser.add_argument("--provinces", default="all", help="all, or GSO codes like 11,49 (default all)")
    parser.add_argument(
        "--scale",
        default="small",
        type=_scale,
        help="small (1-3 Treasury lines per key), national (~300k lines a month) or N (about N lines per key)",
    )
    parser.add_argument("--seed", default=0, type=int, help="random seed (same seed, same bytes)")
    parser.add_argument(
        "--messy",
        default=0,
        type=int,
        choices=[0, 1, 2, 3],
        help="0 canonical layout, 1..3 increasingly messy real-world variants",
    )
    parser.add_argument(
        "--plant",
        default=0.0,
        type=_rate,
        help="share of keys with a planted discrepancy (e.g. 0.02; 0 = clean data)",
    )
    parser.add_argument(
        "--treasury",
        default="auto",
        choices=["auto", "province", "national"],
        help="one Treasury extract per province, one national file, or auto (national at national scale)",
    )
    parser.add_argument("--broken", action="store_true", help="also write deliberately malformed files")


def run_from_args(args: argparse.Namespace) -> int:
    from generator import generate  # noqa: PLC0415 - numpy and the generator load only to generate

    start = time.monotonic()
    try:
        result = generate(
            args.out,
            args.periods,
            provinces=args.provinces,
            scale=args.scale,
            seed=args.seed,
            messy=args.messy,
            plant_rate=args.plant,
            broken=args.broken,
            treasury=getattr(args, "treasury", "auto"),
            progress=print,
        )
    except ValueError as err:
        print(f"ntp generate: {err}", file=sys.stderr)
        return 2
    rules = sorted({r["rule_id"] for r in result.ground_truth})
    print(
        f"wrote {len(result.files)} files to {result.out_dir} in {time.monotonic() - start:.1f} s; "
        f"{len(result.ground_truth)} ground-truth findings ({', '.join(rules) or 'none'}); "
        f"{len(result.broken)} broken files"
    )
    return 0
