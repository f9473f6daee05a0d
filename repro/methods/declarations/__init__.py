"""Each method's declaration (repro/methods/declaration.py): its options, step cost and what a plan asks of it,
torch-free, one module per method (the students share students.py, MentorNet's two runs mentornet.py). The registry
(repro/methods/registry.py) imports one on its first lookup."""
