"""The one exception type that means "the user's input is wrong", and the one warning that
means "the input was taken, but changed" (:class:`InputNotice`).

The CLI turns an :class:`InputError` into one line on stderr and exit status 2. Library code
raises it for anything a user can fix (a bad path, an unknown layer, an image too small);
genuine bugs stay ordinary exceptions.
"""


class InputError(ValueError):
    """Bad user input. ``str(err)`` is one line: what is wrong and what would be right."""


class DegenerateGradientError(InputError):
    """A layer's input gradient is zero or non-finite, so its weighting factor is undefined
    (weighting.py). Bad input to a task; an expected outcome for a stacking candidate."""


class InputNotice(UserWarning):
    """The input was accepted but changed in a way the user should hear of (transparency
    composited over white, ...). The API raises it as a warning; the ``ranvis`` command prints
    it as one ``ranvis: note:`` line."""


def notice(message: str) -> None:
    """Warn with an :class:`InputNotice` (``message`` is one line)."""
    import warnings

    warnings.warn(message, InputNotice, stacklevel=3)
