"""The one exception type a user ever sees: a clear, one-line message about bad input or options."""


class SparsestError(ValueError):
    """Bad input, an impossible request, or an option out of range.

    The command line prints ``str(error)`` on one line to stderr and exits non-zero; the Python API
    lets it propagate. The message names what is wrong and, where it helps, what to do instead.
    """
