"""The packaged Hydra config tree; importing it registers the resolvers its files use (repro/conf/resolvers.py)."""

from repro.conf import resolvers  # noqa: F401  (registers `${repro.*:...}` with OmegaConf)
