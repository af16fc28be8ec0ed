"""closs's exceptions: each is also the builtin that torch would raise for the same mistake."""


class ShapeError(ValueError, RuntimeError):
    """Arrays whose shapes do not fit together (torch raises RuntimeError or ValueError)."""


class DTypeError(TypeError, RuntimeError):
    """An array of a dtype the loss cannot take."""


class ParameterError(ValueError, RuntimeError):
    """A loss parameter outside its domain (torch raises RuntimeError)."""


class DomainError(ValueError, RuntimeError):
    """An input element outside the loss's domain (torch raises RuntimeError)."""
