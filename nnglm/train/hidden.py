"""The network with hidden layers (model.hidden): the linear model's rival, not its equal.

It has no coefficients to set beside the GLM's, so it is judged by its loss on
held-out rows (holdout.py). It trains a fixed number of steps on standardized
inputs, with the same loss, optimizer and compiled step loop as the one-layer
network (network.py).
"""

import time
from typing import Any

import numpy as np
from pydantic import ConfigDict, Field

from nnglm.config.schema import TrainConfig
from nnglm.data.table import Dataset
from nnglm.log.result import HiddenSection
from nnglm.model.precondition import Inputs
from nnglm.train import network
from nnglm.train.backends import Engine
from nnglm.train.network import NetworkSpec

AUTO_STEPS = 5000  # a hidden-layer network has no optimum to measure: with `auto` it trains this long


class HiddenFit(HiddenSection):
    """What training reached: result.json's hidden section (its figures are declared there), and what the
    fit alone holds, never written there: no coefficients, a model that predicts."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model: Any = Field(exclude=True)  # a Keras model
    inputs: Inputs = Field(exclude=True)
    dtype: str = Field(exclude=True)

    def predict(self, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """The fitted mean (class probabilities for multinomial) on new rows."""
        import keras

        x = self.inputs.apply(X).astype(self.dtype)
        mu = self.model(x if offset is None else [x, offset[:, None].astype(self.dtype)])
        mu = keras.ops.convert_to_numpy(mu).astype(float)
        return mu[:, 0] if mu.shape[1] == 1 else mu


def steps(train: TrainConfig) -> int:
    return AUTO_STEPS if train.auto else train.fixed_steps


def build(engine: Engine, spec: NetworkSpec, n_features: int, n_outputs: int, bias: np.ndarray, offset: bool = False):
    """model.hidden's Dense layers (Keras' default initializer) before the one-layer network's output
    layer, which then starts from Keras' default too: zeros would leave every hidden unit the same forever."""
    network.seeded(engine, spec.seed, spec.train.dtype)
    dtype = spec.train.dtype
    layers = [engine.keras.layers.Dense(width, activation=spec.hidden_activation, dtype=dtype) for width in spec.hidden]
    head = network.output_layer(engine, spec, n_outputs, bias, offset, kernel_initializer="glorot_uniform")
    return network.assemble(engine, spec, n_features, [*layers, head], offset)


def train(engine: Engine, dataset: Dataset, spec: NetworkSpec, device: str, on_log: network.Observer = lambda row: None) -> HiddenFit:
    """Train for steps(spec.train) steps, or until the loss or a weight stops being finite."""
    train = spec.train
    inputs = Inputs.of(dataset.X, "standardize" if train.inputs != "none" else "none", spec.use_bias)
    n_steps = steps(train)
    start = time.perf_counter()
    with engine.placement(device):
        model = build(engine, spec, dataset.n_features, dataset.n_outputs, network.start_bias(spec, dataset), dataset.offset is not None)
        run, current, batches = network.compiled(engine, model, spec, inputs.apply(dataset.X), dataset)
        loop = network.Steps(model, run, current, batches, lambda: np.array([]), np.array([]), on_log)
        while loop.step < n_steps and loop.finite:
            loop.run(min(train.log_every, n_steps - loop.step))
    diverged = not loop.finite
    return HiddenFit(
        widths=list(spec.hidden),
        activation=spec.hidden_activation,
        final_loss=loop.history[-1][1],
        epochs_run=loop.step,
        train_seconds=time.perf_counter() - start,
        diverged=diverged,
        note=f"diverged: the loss or a weight stopped being finite by step {loop.step}" if diverged else None,
        model=model,
        inputs=inputs,
        dtype=train.dtype,
    )
