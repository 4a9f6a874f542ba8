"""The `sparsest` command line: `main` builds the parser; each command module (`certify`, `train`,
`compare`, `claims`) provides ``register(subparsers)`` and only parses and prints."""
