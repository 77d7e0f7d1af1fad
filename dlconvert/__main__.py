"""``python -m dlconvert``: the command line."""

from .cli import main

main()
