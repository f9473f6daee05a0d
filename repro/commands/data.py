"""`repro data download NAME ... --root DIR`: fetch CIFAR-10, CIFAR-100 and CIFAR-N's label files into a data root,
each checked against its published md5 and written whole or not at all (repro/data/download.py). Run it once, on a
machine with internet (a cluster's login node); the runs then read the root as `data.root`."""

from __future__ import annotations

import argparse
import os

from repro.data.download import download
from repro.data.published import MIRROR_VARIABLE, NAMES, fetch_command, lands_as

WHEN_INTERRUPTED = "what was fetched whole is kept and nothing half-written is left; run it again for the rest."

USAGE = f"""\
examples:
  {fetch_command(NAMES, "/data/cifar")}
                      all three; a re-run fetches only what is missing
  repro train data=cifar100 model=resnet18 data.root=/data/cifar
  repro train data=cifar10 noise=cifar_n noise.type=worse noise.file=/data/cifar/CIFAR-10_human.pt"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    download = actions.add_parser(
        "download",
        help="fetch data sets into a data root, each checked against its published md5",
        description="Fetch data sets into a data root, each checked against its published md5 and written whole "
        "or not at all. Run it once, on a machine with internet (a cluster's login node); runs read the root as "
        "data.root.",
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    download.add_argument(
        "names",
        nargs="+",
        metavar="NAME",
        help=f"{', '.join(NAMES)} (cifar-n: CIFAR-10N's and CIFAR-100N's human label files, CC BY-NC 4.0)",
    )
    download.add_argument("--root", required=True, metavar="DIR", help="the data root (what runs get as data.root)")
    download.add_argument(
        "--mirror",
        default=os.environ.get(MIRROR_VARIABLE) or None,
        metavar="URL",
        help=f"fetch every file from URL/<file name> instead of where it is published (default: ${MIRROR_VARIABLE})",
    )


def run(args: argparse.Namespace) -> int:
    download(args.names, args.root, mirror=args.mirror)
    print(f"data root ready: pass data.root={args.root}")
    if "cifar-n" in args.names:
        files = ", ".join(f"noise.file={args.root}/{name}" for name in lands_as("cifar-n"))
        print(f"CIFAR-N (CC BY-NC 4.0: non-commercial use): {files}")
    return 0
