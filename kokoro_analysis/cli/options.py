"""What the commands share: the :class:`Command` record, value types that refuse bad numbers in one
line, and the options several commands take (``--data``, ``--lenient``, ``--show``, ``--seed``,
``--limit``, ``--out``).

Only the standard library here: ``--version`` and ``--help`` import nothing heavy.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

DATA_LOCATIONS = "$KOKOROCHAT_DATA, then data/KokoroChat, then a fresh clone"
TRANSLATION_LOCATIONS = (
    "$KOKOROCHAT_TRANSLATIONS, then data/MultilingualKokoroChat, then a fresh clone"
)


@dataclass(frozen=True)
class Command:
    """One subcommand: its name and one-line help, the function adding its options (imports of the
    package's modules inside it, so only the chosen command's owners are loaded), its handler, and
    optionally a longer description for its ``--help``."""

    name: str
    help: str
    add_options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def steps_or_all(text: str) -> int:
    """A number of steps, or -1 for all of them."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value != -1 and value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (or -1: all), not {value}")
    return value


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        default=None,
        help="KokoroChat clone, its kokorochat_dialogues/ folder or a Parquet export "
        f"(default: {DATA_LOCATIONS})",
    )


def add_lenient_option(parser: argparse.ArgumentParser, what: str | None = None) -> None:
    parser.add_argument(
        "--lenient",
        action="store_true",
        help=what
        or "skip the sessions with problems (each is reported; the count is printed) instead of "
        "stopping at the first bad file",
    )


def add_show_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--show",
        type=non_negative_int,
        default=20,
        metavar="N",
        help=f"how many {what} to print; all are counted (default: %(default)s)",
    )


def add_seed_option(parser: argparse.ArgumentParser, of: str, default: int | None = 0) -> None:
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=default,
        help=f"seed of {of}" + (" (default: %(default)s)" if default is not None else ""),
    )


def add_limit_option(parser: argparse.ArgumentParser, of: str) -> None:
    parser.add_argument(
        "--limit",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"seeded sample of N {of} (default: all)",
    )


def add_out_option(parser: argparse.ArgumentParser, metavar: str, what: str) -> None:
    parser.add_argument("--out", required=True, metavar=metavar, help=what)


def subset_help() -> str:
    """The training subsets with their score bounds (from the schema), for ``--subset``."""
    from kokoro_analysis.corpus.schema import SUBSETS
    from kokoro_analysis.finetune.data import TRAIN_SUBSETS

    bounds = ", ".join(
        f"{name} (score {SUBSETS[name][0]}-{SUBSETS[name][1]})" for name in TRAIN_SUBSETS
    )
    return f"training sessions: {bounds} (default: %(default)s)"


def add_device_options(
    parser: argparse.ArgumentParser, device: str, quantize: str, quantize_help: str
) -> None:
    """``--device`` and ``--quantize`` with the choices of :mod:`kokoro_analysis.finetune.models`."""
    from kokoro_analysis.finetune.models import DEVICES, QUANTIZATIONS

    parser.add_argument(
        "--device",
        choices=DEVICES,
        default=device,
        help="auto: CUDA when visible, else the CPU (default: %(default)s)",
    )
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default=quantize, help=quantize_help)


def chosen(args: argparse.Namespace, *names: str) -> dict:
    """The parsed options ``names`` as keyword arguments."""
    return {name: getattr(args, name) for name in names}
