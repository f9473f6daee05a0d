"""The one exception type for bad input: the CLI prints its message and exits 2, without a traceback."""


class UserError(Exception):
    """Bad input (config, data, files). The message is one paragraph: what was wrong and how to fix it."""


class Interrupted(Exception):
    """SIGTERM/SIGINT arrived: the run stops at once; its last epoch's checkpoint is the resume point. The CLI says
    so in one line and exits 128 + the signal's number (143 for SIGTERM, 130 for SIGINT)."""

    def __init__(self, message: str = "", signum: int | None = None) -> None:
        super().__init__(message)
        self.signum = signum
