"""The ``ranvis`` command: ``commands`` (``main(argv) -> int``, one function per subcommand),
``parsers`` (one argparse parser per subcommand), ``args`` (argument types and shared options),
``runtime`` (what every subcommand shares at run time: signals, output checks, one-line errors,
threads), ``demo`` and ``demopage`` (the gallery behind ``make demo``). Nothing below this
package imports it."""
