"""Typed declarations of the config: each config node (a group such as `optim`, a method's options, a noise model's
keys) is one frozen dataclass whose fields are its keys, with their types, ranges, allowed values, defaults and the
rules that tie keys together (declare.py); what a value may be is a rule (rules.py); check.py checks a node and
builds its typed object; describe.py lists the keys for `repro train --help` and docs/options.md. The declarations
live beside what they describe: the config groups in repro/conf/schema.py, a noise model's keys on the model
(repro/data/noise/), a method's options on the method (repro/methods/)."""

from repro.schema.check import CONFIG, Source, SweepFile, build, check_node, refuse
from repro.schema.declare import fields_of, is_schema, option, schema
from repro.schema.describe import OptionDoc, describe
from repro.schema.identity import Slot, identity_config, same_value

__all__ = [
    "CONFIG",
    "OptionDoc",
    "Slot",
    "Source",
    "SweepFile",
    "build",
    "check_node",
    "describe",
    "fields_of",
    "identity_config",
    "is_schema",
    "option",
    "refuse",
    "same_value",
    "schema",
]
