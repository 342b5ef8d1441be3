"""One module per ``tuner`` subcommand (see :data:`tuner.cli.COMMANDS`).

Each module defines ``HELP`` (one line), ``DESCRIPTION`` (with an example),
``add_arguments(parser)`` and ``run(args) -> int``. Heavy imports go inside ``run`` so that
``tuner --help`` stays quick.
"""
