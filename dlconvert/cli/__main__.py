"""``python -m dlconvert.cli``: the command line."""

from . import main

main()
