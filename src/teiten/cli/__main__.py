"""``python -m teiten.cli``."""

from teiten.cli import main

main()
