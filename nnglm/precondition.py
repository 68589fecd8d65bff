"""What the network's inputs are transformed with, and how its weights map back.

The network may train on Z = (X - shift) @ M instead of X: standardized columns
(M diagonal, 1/sd) or whitened ones (M = R^-1 from the QR decomposition of the
centred design, so that Z'Z/n = I and a Gaussian loss has the identity as its
Hessian). Whatever M is, a Dense layer on Z is a Dense layer on X with

    kernel_X = M @ kernel_Z,    bias_X = bias_Z - shift @ kernel_X,

a linear map, so the weights are mapped back exactly before anything reads them
and the GLM always fits the original features.
"""

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

Method = Literal["none", "standardize", "whiten"]


@dataclass(frozen=True)
class Inputs:
    method: Method
    shift: np.ndarray  # (features,)
    matrix: np.ndarray  # (features, features)

    @classmethod
    def of(cls, X: np.ndarray, method: str, use_bias: bool) -> "Inputs":
        if method not in get_args(Method):
            raise ValueError(f"unknown preconditioning {method!r}; one of {', '.join(get_args(Method))}")
        n, k = X.shape
        # without a bias there is no intercept to absorb a shift: no centring
        shift = X.mean(axis=0) if use_bias and method != "none" else np.zeros(k)
        if method == "none" or k == 0:
            return cls("none", shift, np.eye(k))
        sd = X.std(axis=0)
        sd[sd == 0] = 1.0
        standardized = np.diag(1.0 / sd)
        if method == "standardize":
            return cls("standardize", shift, standardized)
        # QR of the standardized columns: the same Z, and R stays well scaled
        _, R = np.linalg.qr((X - shift) @ standardized / np.sqrt(n))
        diag = np.abs(np.diag(R))
        if diag.min() <= 1e-10 * diag.max():  # aliased columns: no inverse; standardize only
            return cls("standardize", shift, standardized)
        return cls("whiten", shift, standardized @ np.linalg.inv(R))

    def apply(self, X: np.ndarray) -> np.ndarray:
        return (X - self.shift) @ self.matrix

    def to_original(self, kernel: np.ndarray, bias: np.ndarray | None, multiclass: bool) -> np.ndarray:
        """Dense weights (kernel (features, outputs), bias (outputs,)) as coefficients in the order
        of Dataset.terms, on the original scale of the features."""
        kernel = self.matrix @ kernel
        rows = [kernel]
        if bias is not None:
            rows.insert(0, (bias - self.shift @ kernel)[None, :])
        B = np.vstack(rows)  # (terms, outputs)
        if multiclass:
            # softmax is unchanged by adding one vector to every class: compare contrasts with class 0
            B = B[:, 1:] - B[:, :1]
        return B.T.ravel()


def condition_number(X: np.ndarray, use_bias: bool) -> float:
    """The design's condition number, as statsmodels' OLS summary reports it (the ratio of its
    largest to its smallest singular value): how much relative round-off can grow in the
    coefficients when the network works on the features as given."""
    design = np.column_stack([np.ones(len(X)), X]) if use_bias else X
    if design.shape[1] == 0:
        return 1.0
    s = np.linalg.svd(design, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")
