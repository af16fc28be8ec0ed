"""The types of closs's public signatures (PEP 561: the package ships py.typed).

A loss value is a NumPy scalar of the result dtype for a reduced loss
('mean', 'sum', 'batchmean') and an ndarray for reduction='none'; gradients
are ndarrays (a tuple of them where a loss has several differentiable inputs).
"""

from typing import Any, Literal, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ArrayLike", "Array", "Scalar", "Value", "Reduced", "Reduction"]

Array = NDArray[np.floating[Any]]        # float32 or float64
Scalar = np.floating[Any]                # np.float32 or np.float64
Value = Union[Scalar, Array]             # when the reduction is not known statically
Reduced = Literal["mean", "sum"]         # reductions that give a Scalar
Reduction = Literal["none", "mean", "sum"]
