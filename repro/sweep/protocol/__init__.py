"""The sweep protocol: all the sweep's core knows of a stage. base.py is what a stage provides (`Stage`, its hooks)
and the typed objects it is handed and returns; registry.py the stages by their sweep-file key (`register_stage`).
It stands under the core that asks it and under the stages (repro/sweep/stages/) that implement it."""
