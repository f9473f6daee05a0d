"""How often a MentorNet PD mentor misses its curriculum from one initialisation, and how often the best of several
does (docs/methods/mentornet.md, "Initialisations of a mentor"): for each run seed, the PD mentor as a mentor run
trains it (the curriculum's rows from the run's seed + 2, the k-th initialisation from the seed + 3 + k strides,
repro/methods/mentornet/mentor_run.py), each initialisation's held-out squared error, and the one kept. A fit above
--poor (0.05: the rule "every weight 1 up to epoch 18" missed costs about 0.095) is counted poor. One torch thread.

    .venv/bin/python benchmarks/mentor_inits.py [--seeds 10] [--inits 3] [--steps 10000]
"""

from __future__ import annotations

import argparse

import torch

from repro.methods.mentornet.curricula import pd_data
from repro.methods.mentornet.mentor_run import INIT_STRIDE
from repro.methods.mentornet.trainer import MentorRecipe, train_best_mentor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="run seeds 0..N-1")
    parser.add_argument("--inits", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10_000, help="Adam steps (the fit settles by 10,000 of 30,000)")
    parser.add_argument("--poor", type=float, default=0.05)
    args = parser.parse_args()
    torch.set_num_threads(1)
    first_poor = kept_poor = 0
    print("seed  " + "  ".join(f"init {k}" for k in range(args.inits)) + "  kept")
    for seed in range(args.seeds):
        rows = pd_data(torch.Generator().manual_seed(seed + 2))
        seeds = [seed + 3 + INIT_STRIDE * k for k in range(args.inits)]
        _, fit = train_best_mentor(rows, MentorRecipe(steps=args.steps), seeds)
        losses = fit["init_test_losses"]
        first_poor += losses[0] > args.poor
        kept_poor += fit["test_loss"] > args.poor
        print(f"{seed:4}  " + "  ".join(f"{loss:6.4f}" for loss in losses) + f"  {fit['init_kept']}", flush=True)
    print(
        f"poor fits (held-out squared error > {args.poor}): {first_poor} of {args.seeds} from one initialisation, "
        f"{kept_poor} of {args.seeds} keeping the best of {args.inits}"
    )


if __name__ == "__main__":
    main()
