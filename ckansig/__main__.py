"""``python -m ckansig``."""

from ckansig.cli import main

main()
