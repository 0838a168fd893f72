"""``python -m creditml.cli``."""

from creditml.cli import main

main()
