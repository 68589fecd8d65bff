"""What the network's inputs are transformed with, and how its weights map back.

The network may train on Z = (X - shift) @ M instead of X: standardized columns
(M diagonal, 1/sd) or whitened ones (M = R^-1 from the QR decomposition of the
centred design, so that Z'Z/n = I and a Gaussian loss has the identity as its
Hessian). Whatever M is, a Dense layer on Z is a Dense layer on X with

    kernel_X = M @ kernel_Z,    bias_X = bias_Z - shift @ kernel_X,

a linear map, so the weights are mapped back exactly before anything reads them
and the GLM always fits the original features.

Rows are read in blocks (the column means and spreads, R by a QR of each block
stacked under the R so far, Z written block by block into its own dtype), so
that no temporary of the design's size is made beside Z itself.
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
        mean = shift if use_bias else X.mean(axis=0)
        sd = np.sqrt(sum(np.square(X[rows] - mean).sum(axis=0) for rows in blocks(n, k)) / n)
        sd[sd == 0] = 1.0
        standardized = np.diag(1.0 / sd)
        if method == "standardize":
            return cls("standardize", shift, standardized)
        # QR of the standardized columns: the same Z, and R stays well scaled
        R = r_factor(X, lambda block: (block - shift) / (sd * np.sqrt(n)))
        diag = np.abs(np.diag(R))
        if diag.min() <= 1e-10 * diag.max():  # aliased columns: no inverse; standardize only
            return cls("standardize", shift, standardized)
        return cls("whiten", shift, standardized @ np.linalg.inv(R))

    def apply(self, X: np.ndarray, dtype: str = "float64") -> np.ndarray:
        """Z = (X - shift) @ matrix in `dtype` (X itself, uncopied, for no preconditioning in its own dtype)."""
        if self.method == "none" and not self.shift.any():
            return X if X.dtype == dtype else X.astype(dtype)
        Z = np.empty(X.shape, dtype=dtype)
        for rows in blocks(*X.shape):
            Z[rows] = (X[rows] - self.shift) @ self.matrix
        return Z

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

    def from_original(self, coefficients: np.ndarray, use_bias: bool, n_outputs: int) -> tuple[np.ndarray, np.ndarray]:
        """to_original's inverse: coefficients in the order of Dataset.terms as Dense weights on Z, a kernel
        (features, outputs) and a bias (outputs,; zeros without one): kernel_Z = matrix^-1 kernel_X,
        bias_Z = bias_X + shift @ kernel_X. Multinomial: class 0, the reference, is the zero column."""
        n_terms = self.matrix.shape[0] + use_bias
        classes = max(n_outputs - 1, 1)
        B = np.asarray(coefficients, dtype=float)[: n_terms * classes].reshape(classes, n_terms).T  # (terms, outputs)
        if n_outputs > 1:
            B = np.column_stack([np.zeros(n_terms), B])
        kernel = B[int(use_bias) :]
        bias = B[0] + self.shift @ kernel if use_bias else np.zeros(n_outputs)
        return np.linalg.solve(self.matrix, kernel), bias


BLOCK_BYTES = 2**22  # rows are read in blocks of about this many bytes


def blocks(n: int, k: int) -> list[slice]:
    rows = max(256, BLOCK_BYTES // (8 * max(k, 1)))
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


def condition_number(X: np.ndarray, use_bias: bool) -> float:
    """The design's condition number, as statsmodels' OLS summary reports it (the ratio of its
    largest to its smallest singular value): how much relative round-off can grow in the
    coefficients when the network works on the features as given."""
    if X.shape[1] + use_bias == 0:
        return 1.0
    # the design's singular values are its R factor's
    R = r_factor(X, lambda block: np.column_stack([np.ones(len(block)), block]) if use_bias else block)
    s = np.linalg.svd(R, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def r_factor(X: np.ndarray, transform) -> np.ndarray:
    """R of the QR decomposition of transform(X), a block of rows at a time: each block's QR is
    taken stacked under the R so far (exact, and as stable as one QR of the whole)."""
    R = None
    for rows in blocks(*X.shape):
        block = transform(X[rows])
        R = np.asarray(np.linalg.qr(block if R is None else np.vstack([R, block]), mode="r"))
    return R if R is not None else np.zeros((0, X.shape[1]))
