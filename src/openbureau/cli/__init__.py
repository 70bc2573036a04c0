"""The ``openbureau`` command line: a thin layer over :class:`openbureau.context.Context`."""
