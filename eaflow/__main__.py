"""`python -m eaflow` is the `eaflow` command."""

from eaflow.cli.main import main

main()
