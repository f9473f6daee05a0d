"""Seeds where a claim is undecided (`until_decided:`, `repro sweep FILE --until-decided`): stage.py."""
