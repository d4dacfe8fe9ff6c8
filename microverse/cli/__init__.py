"""The command line: thin wiring from Typer commands to the capability packages."""
