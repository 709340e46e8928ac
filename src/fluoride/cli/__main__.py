"""Run the CLI: ``python -m fluoride.cli``."""

from fluoride.cli import main

raise SystemExit(main())
