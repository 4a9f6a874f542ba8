"""One module per `sparsest` subcommand; each provides ``register(subparsers)``."""
