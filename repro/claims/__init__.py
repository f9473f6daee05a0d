"""The paper's claims and the statistics that judge them: paper.py reads the printed numbers, claim.py and load.py
the declared claims (paper_tables/claims.csv), stats.py and verdicts.py the intervals, tests, power and verdict
words, judgement.py a claim judged on runs, seed_power.py what `repro sweep FILE --dry-run` says the seeds can
decide. It sits below the sweep and analysis/, which both use it (docs/architecture.md, "Layers")."""
