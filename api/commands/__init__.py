"""One module per `o2c` command group; each exposes `register(subparsers)`."""
