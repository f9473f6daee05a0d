"""The one exception type for bad input: the CLI prints its message and exits 2, without a traceback."""


class UserError(Exception):
    """Bad input (config, data, files). The message is one paragraph: what was wrong and how to fix it."""
