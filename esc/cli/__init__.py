"""The command line (click only): options, output, exit codes."""
