"""The ``gep`` command line. Each module in this package that defines ``register(subparsers)`` adds
subcommands; :mod:`gep.cli.main` discovers them, so a new stage adds a file here and touches nothing else.
"""
