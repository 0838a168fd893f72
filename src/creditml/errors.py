"""Errors users can act on. The CLI turns each into a message and exit code 2."""


class CreditmlError(Exception):
    """Base class: the message says what was expected, what was found and what to do."""

    exit_code = 2


class ConfigError(CreditmlError):
    """A configuration file is missing, malformed or inconsistent."""


class DataContractError(CreditmlError):
    """The data does not honour its dataset config. Holds every problem found."""

    def __init__(self, problems: list[str], source: str = "dataset"):
        self.problems = list(problems)
        head = f"{source}: {len(self.problems)} data contract problem(s):"
        super().__init__("\n".join([head, *("  - " + p for p in self.problems)]))


class SkewError(CreditmlError):
    """Served features differ from the trained ones: a defect of creditml, not of the input."""

    exit_code = 1
