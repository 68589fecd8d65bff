"""data.folds: each row's fold for K-fold cross-validation, the same for every model compared.

The rows are dealt to the folds in a seeded random order, class by class where the family has classes
(binomial with a 0/1 target, multinomial), so that every fold holds each class in its share; rows of
weight 0 (data.weights, data.trials) are dealt apart from the others, so that no fold holds only rows
that count for nothing. The inner split that stops a network's training early is drawn the same way,
from a fold's training rows only."""

from dataclasses import dataclass

import numpy as np

from nnglm.data.table import Dataset
from nnglm.foundation.errors import UserError
from nnglm.vocabulary.families import Family

FOLDS_STREAM = 2  # the seed's stream for the folds (1 is data.validation_fraction's split)
INNER_STREAM = 3  # and for each fold's inner split


@dataclass(frozen=True)
class Folds:
    ids: np.ndarray  # each row's fold, 0 .. k-1
    k: int
    stratified: bool  # dealt class by class

    def held_out(self, fold: int) -> np.ndarray:
        """The rows fold `fold` (0 .. k-1) holds out, in the data's order."""
        return np.flatnonzero(self.ids == fold)

    def training(self, fold: int) -> np.ndarray:
        return np.flatnonzero(self.ids != fold)


def stratifies(dataset: Dataset, family: Family) -> bool:
    """Folds are dealt by class: a multinomial target, or a binomial one that is 0 or 1 on every row."""
    if family.multiclass:
        return True
    return family.takes_trials and bool(np.all((dataset.y == 0) | (dataset.y == 1)))


def strata(dataset: Dataset, stratified: bool) -> np.ndarray:
    """Each row's stratum: its class where stratified, and whether its weight is above 0."""
    counts = dataset.weights if dataset.weights is not None else np.ones(dataset.n_rows)
    positive = (counts > 0).astype(int)
    return 2 * dataset.y.astype(int) + positive if stratified else positive


def deal(strata: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Each stratum's rows in a random order, dealt round the k folds in turn, one stratum after another:
    fold sizes differ by at most one, overall and within each stratum."""
    order = np.concatenate([rng.permutation(np.flatnonzero(strata == s)) for s in np.unique(strata)])
    ids = np.empty(len(strata), dtype=int)
    ids[order] = np.arange(len(order)) % k
    return ids


def assign(dataset: Dataset, k: int, seed: int, family: Family, use_bias: bool) -> Folds:
    """The folds of data.folds: k, seeded by the config's seed; a UserError, naming data.folds, where some
    fold would have nothing to score or a training part that no fit could learn from."""
    n = dataset.n_rows
    if k > n:
        raise UserError(f"data.folds: {k} folds of {n} rows; each fold holds at least one row out: set data.folds to at most {n}")
    stratified = stratifies(dataset, family)
    counts = dataset.weights if dataset.weights is not None else np.ones(n)
    n_counted = int(np.sum(counts > 0))
    if n_counted < k:
        raise UserError(
            f"data.folds: {k} folds, but only {n_counted} of the {n} rows have a weight above 0 (data.weights, data.trials): "
            f"a fold would hold out nothing to score; set data.folds to at most {n_counted}"
        )
    folds = Folds(deal(strata(dataset, stratified), k, np.random.default_rng([seed, FOLDS_STREAM])), k, stratified)
    check_training(dataset, folds, len(dataset.terms(use_bias)), stratified)
    return folds


def check_training(dataset: Dataset, folds: Folds, n_coefs: int, stratified: bool) -> None:
    """Each fold's training rows can be fitted: enough of them, and every class among them."""
    n_train = min(len(folds.training(j)) for j in range(folds.k))
    if n_train < n_coefs:
        raise UserError(
            f"data.folds: {folds.k} folds of {dataset.n_rows} rows leave {n_train} rows to train on in a fold; "
            f"the fits need at least {n_coefs}: "
            + ("set fewer folds" if folds.k > 2 else "too few rows to cross-validate; leave data.folds out")
        )
    if not stratified:
        return
    classes = np.unique(dataset.y)
    for j in range(folds.k):
        missing = np.setdiff1d(classes, np.unique(dataset.y[folds.training(j)]))
        if len(missing):
            raise UserError(
                f"data.folds: the training rows of fold {j + 1} hold no row of class {class_name(dataset, missing[0])}, "
                f"which has {plural(int(np.sum(dataset.y == missing[0])), 'row')} in all: no fit of that fold could predict it; "
                "every class needs rows in at least 2 folds"
            )


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def class_name(dataset: Dataset, value: float) -> str:
    if dataset.classes:
        return repr(dataset.classes[int(value)])
    return f"{value:g}"


def inner(rows: Dataset, fraction: float, seed: int, fold: int, stratified: bool) -> tuple[np.ndarray, np.ndarray]:
    """A fold's training rows split for early stopping: (the rows fitted, the rows that stop training), `fraction`
    of each stratum in the second, never fewer than one row there (none where a stratum has a single row)."""
    rng = np.random.default_rng([seed, INNER_STREAM, fold])
    labels = strata(rows, stratified)
    early = []
    for s in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == s))
        early.append(members[: int(round(fraction * len(members))) if len(members) > 1 else 0])
    held = np.concatenate(early)
    if len(held) == 0:  # every stratum too small to give a row: one row of the largest
        largest = np.flatnonzero(labels == np.bincount(labels).argmax())
        held = rng.permutation(largest)[:1]
    fitted = np.setdiff1d(np.arange(rows.n_rows), held)
    return fitted, np.sort(held)
