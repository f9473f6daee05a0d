"""The ledger of the paper's claims: each claim the paper makes (paper_tables/claims.csv, read by repro/claims/ with
the paper's numbers) against the same contrast in our runs, with its interval, what the seeds could detect and a
verdict. The statistics and verdicts live in repro/claims/ (the dry run uses them too); here build.py finds each
claim's cells as `repro tables` does, measures.py reads recorded quantities, likeness.py notes recipe and tuning
differences, variance.py what a seed redraws, render.py / fields.py / plot.py write Markdown, CSV and PNG, and
write.py is what `repro ledger` and `repro demo` call."""
