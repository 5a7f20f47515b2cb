"""Run the command line as ``python -m facade``."""

from facade._cli import main

main()
