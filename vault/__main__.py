"""`python -m vault` runs the command line."""

from vault.cli import main

main()
