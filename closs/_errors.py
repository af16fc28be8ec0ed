"""closs's exceptions: precise Python types that also match torch's categories.

torch raises RuntimeError for shape and dtype problems; closs raises these
subclasses so that `except ValueError` and `except RuntimeError` both work.
"""


class ShapeError(ValueError, RuntimeError):
    """Arrays whose shapes do not fit the loss (torch raises RuntimeError)."""


class DTypeError(TypeError, RuntimeError):
    """An array of a dtype the argument cannot take (torch raises RuntimeError)."""
