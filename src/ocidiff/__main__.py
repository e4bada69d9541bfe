"""`python -m ocidiff`."""

from .cli import main

main()
