"""The ledger of the paper's claims: each comparison the paper makes (paper_tables/claims.csv, with the paper's two
numbers from paper_tables/paper/) against the same comparison in our runs, with a 95% confidence interval over seeds
and a verdict. claims.py reads the claims, intervals.py holds the statistics, build.py finds the cells' runs as
`repro tables` does, render.py and plot.py write Markdown, CSV and PNG, write.py is what `repro ledger` and
`repro demo` call."""
