"""What the wheel holds (the project's metadata is pyproject.toml's): the packages repro and analysis with the Hydra
config tree, and, inside repro, the files the commands read, which a checkout keeps beside the package where users
and docs expect them: the sweep files, the claims with the paper's tables and the cluster profiles. Each such folder
becomes `repro/bundled/<folder>/` in the wheel (a package-dir mapping: nothing moves in the checkout), read through
repro/checkout.py's `bundled`. pyproject.toml cannot map folders into a package while it finds the packages, hence
this file. tests/project/test_installed_wheel.py builds the wheel and holds its bundled files equal to the tracked ones.
"""

from setuptools import find_packages, setup

# folder of the checkout -> its files that ship (relative to it); what a command writes there (paper_tables/ours/)
# does not ship
BUNDLED = {
    "sweeps": ["*.yaml", "demo/*.yaml", "mnist1d/*.yaml"],
    "paper_tables": ["claims.csv", "paper/*.csv", "paper/README.md"],
    "slurm": ["README.md", "cluster.sh", "profiles/*.yaml"],
}

setup(
    packages=[*find_packages(include=["repro*", "analysis*"]), *(f"repro.bundled.{name}" for name in BUNDLED)],
    package_dir={f"repro.bundled.{name}": name for name in BUNDLED},
    package_data={
        "repro": ["conf/*.yaml", "conf/*/*.yaml", "conf/*/*/*.yaml"],
        **{f"repro.bundled.{name}": files for name, files in BUNDLED.items()},
    },
)
