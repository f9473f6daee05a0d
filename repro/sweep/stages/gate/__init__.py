"""The baseline gate (`gate:`): the gate runs first, the rest of the plan held until they match their numbers."""
