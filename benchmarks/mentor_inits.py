"""How often a MentorNet PD mentor misses its curriculum from one initialisation, and whether a tenth of the steps
picks an initialisation that does not (docs/methods/mentornet.md, "Initialisations of a mentor"): for each run seed,
the PD mentor as a mentor run trains it (the curriculum's rows from the run's seed + 2, the k-th initialisation from
the seed + 3 + k strides, repro/methods/mentornet/mentor_run.py), each initialisation's held-out squared error after
the audition (AUDITION_SHARE of the steps) and after all of them, and the one `train_best_mentor` keeps. A fit above
--poor (0.05: the rule "every weight 1 up to epoch 18" missed costs about 0.095) is counted poor. One torch thread.

    .venv/bin/python -m benchmarks.mentor_inits [--seeds 10] [--inits 3] [--steps 30000]
"""

from __future__ import annotations

import argparse

import torch

from repro.methods.mentornet.curricula import pd_data
from repro.methods.mentornet.mentor_run import INIT_STRIDE
from repro.methods.mentornet.trainer import MentorRecipe, train_best_mentor, train_mentor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="run seeds 0..N-1")
    parser.add_argument("--inits", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30_000, help="Adam steps (the authors' 30,000)")
    parser.add_argument("--poor", type=float, default=0.05)
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe = MentorRecipe(steps=args.steps)
    first_poor = kept_poor = 0
    print("seed  audition losses (each init)  full-steps losses (each init)  kept  kept's loss")
    for seed in range(args.seeds):
        rows = pd_data(torch.Generator().manual_seed(seed + 2))
        seeds = [seed + 3 + INIT_STRIDE * k for k in range(args.inits)]
        full = [train_mentor(rows, recipe, torch.Generator().manual_seed(s))[1]["test_loss"] for s in seeds]
        _, fit = train_best_mentor(rows, recipe, seeds)
        first_poor += full[0] > args.poor
        kept_poor += fit["test_loss"] > args.poor
        audition = " ".join(f"{loss:.4f}" for loss in fit["init_audition_losses"])
        print(
            f"{seed:4}  {audition:27}  {' '.join(f'{loss:.4f}' for loss in full):29}  {fit['init_kept']:4}  "
            f"{fit['test_loss']:.4f}",
            flush=True,
        )
    print(
        f"poor fits (held-out squared error > {args.poor}) after {args.steps} steps: {first_poor} of {args.seeds} "
        f"from one initialisation, {kept_poor} of {args.seeds} keeping the best of {args.inits} after the audition"
    )


if __name__ == "__main__":
    main()
