"""Whether the data have a finite maximum-likelihood estimate at all, for binomial and multinomial fits.

The log-likelihood of a logistic (or softmax) model has no finite maximum exactly when the classes are
separated, completely or quasi-completely: some direction B of the coefficients never lowers any row's
fitted probability of its own class and raises some. That is a linear programme (Konis, 2007, as R's
detectseparation package solves it): maximise the total margin sum_i,c x_i'(b_{y_i} - b_c) over B in
a box, subject to every margin being >= 0. A positive optimum is such a direction; zero means none.
"""

import numpy as np

TOL = 1e-7  # the optimum, relative to the number of constraints, below which no direction separates


def separated(X: np.ndarray, y: np.ndarray, n_classes: int, weights: np.ndarray | None = None) -> bool:
    """X: the design (intercept included); y: class indices 0..C-1 (binomial: the proportion of successes,
    rows strictly between 0 and 1 holding both classes). Rows of weight 0 take no part."""
    from scipy.optimize import linprog

    keep = np.ones(len(y), bool) if weights is None else weights > 0
    X, y = X[keep], y[keep]
    sd = X.std(axis=0)
    size = np.abs(X).max(axis=0, initial=0.0)
    X = X / np.where(sd > 0, sd, np.where(size > 0, size, 1.0))  # the box means the same on every column
    n, k = X.shape
    if n_classes == 2 and not np.all((y == 0) | (y == 1)):
        both = (y > 0) & (y < 1)
        sign = np.where(y >= 1, 1.0, -1.0)
        A_ub = -(X * sign[:, None])[~both]  # margins >= 0
        A_eq = X[both] if both.any() else None  # a row with successes and failures: its margin is 0
        b_eq = np.zeros(int(both.sum())) if both.any() else None
        objective = A_ub.sum(axis=0)
        result = linprog(objective, A_ub=A_ub, b_ub=np.zeros(len(A_ub)), A_eq=A_eq, b_eq=b_eq, bounds=(-1, 1), method="highs")
        return bool(result.status == 0 and -result.fun > TOL * max(len(A_ub), 1))
    classes = y.astype(int)
    # variables: b_1 .. b_{C-1} (b_0 = 0), each of k entries; one margin per row and other class
    rows = []
    for c in range(n_classes):
        others = classes != c
        if not others.any():
            continue
        own = classes[others]
        block = np.zeros((int(others.sum()), k * (n_classes - 1)))
        for j in range(1, n_classes):
            at = slice((j - 1) * k, j * k)
            block[:, at] += X[others] * (own == j)[:, None]  # + x'b_{y_i}
            if c == j:
                block[:, at] -= X[others]  # - x'b_c
        rows.append(block)
    margins = np.vstack(rows)
    result = linprog(-margins.sum(axis=0), A_ub=-margins, b_ub=np.zeros(len(margins)), bounds=(-1, 1), method="highs")
    return bool(result.status == 0 and -result.fun > TOL * len(margins))
