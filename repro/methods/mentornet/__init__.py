"""MentorNet (Jiang et al., ICML 2018; google/mentornet): the mentor network (network.py), what a mentor learns from
(curricula.py) and how it trains (trainer.py), the run that trains and stores mentors (mentor_run.py, records.py:
`method=mentornet_mentor`), and the StudentNet weighted by a mentor (weighting.py, student.py: `method=mentornet`).
docs/methods/mentornet.md."""
