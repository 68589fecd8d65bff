"""What differs between Keras backends: import, device, determinism, the compiled
step loop, gradients and Hessians. Everything else (the model, its loss, the
optimizer, `train_step` itself) is Keras' own and the same on every backend.

Keras reads its backend once, when it is first imported, so one process runs one
backend; a sweep over backends runs each point in its own process.
"""

import contextlib
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from nnglm.foundation import safe
from nnglm.foundation.errors import UserError

BACKENDS = ("tensorflow", "jax", "torch")


class Engine(Protocol):
    """What a run needs from a Keras backend; TensorFlowEngine, JaxEngine and TorchEngine below."""

    name: str
    keras: Any  # the keras module, imported on this backend

    def device(self, wanted: str) -> str:
        """'CPU:0' or 'GPU:0' for train.device (auto, cpu, gpu); a UserError if it cannot be had."""
        ...

    def determinism(self, seed: int, device: str) -> dict:
        """Make runs repeatable (deterministic ops, no TensorFloat-32) and say how."""
        ...

    def caveat(self, dtype: str) -> str | None:
        """What the backend cannot do for a run in this dtype, or None."""
        ...

    def placement(self, device: str) -> AbstractContextManager: ...

    def used_device(self, model, device: str) -> str:
        """Where the model's weights actually are."""
        ...

    def step_runner(self, model, data: tuple) -> Callable[[int], None]:
        """n full-batch steps of Keras' own train_step, compiled once."""
        ...

    def evaluator(self, model, data: tuple, loss_fn, penalty=None) -> Callable[[], tuple]:
        """() -> (loss, fitted mean, gradient) at the current weights; the gradient in the trainable
        weights' order, each raveled (kernel, then bias), in the training dtype."""
        ...

    def enable_float64(self) -> None: ...

    def derivatives(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """theta -> (gradient, Hessian) of f in float64."""
        ...

    def gradient(self, f: Callable) -> Callable[[np.ndarray], np.ndarray]:
        """x -> the gradient of f at x in float64 (x of any shape: a linear predictor's rows, for one)."""
        ...

    def elementwise(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """eta (rows,) -> first and second derivative of f at each row, in float64, where f maps
        a (rows, 1) tensor to (rows,) values, each row's value depending on its own eta only."""
        ...


NO_TORCH = "train.backend: torch, but PyTorch is not installed here; install it with make install EXTRAS=test,dev,torch"


def load(backend: str, dtype: str = "float32") -> Engine:
    """The engine for a backend, with Keras imported on it: once a run (see runner.run)."""
    loaded = sys.modules.get("keras")
    if loaded is not None and loaded.config.backend() != backend:
        raise UserError(
            f"train.backend: {backend}, but Keras is already loaded with {loaded.config.backend()} in this "
            "process; run each backend in its own process (separate `nnglm run`s, or a sweep)"
        )
    # process-wide by nature: Keras reads its backend, TensorFlow its log level, once, when first imported
    os.environ["KERAS_BACKEND"] = backend
    safe.private_config_dirs()  # keras.json not written into the user's home
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend == "jax":
        # deterministic reductions on GPUs; must be set before JAX starts (it reads XLA_FLAGS once a process)
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_gpu_deterministic_ops=true").strip()
    if backend == "torch" and not _installed("torch"):
        raise UserError(NO_TORCH)
    if "tensorflow" not in sys.modules and _installed("tensorflow"):
        with _quiet_stderr():
            import tensorflow  # Keras imports it on every backend where it is installed

        tensorflow.get_logger().setLevel("ERROR")  # retracing notes are for TensorFlow's developers
    import keras

    if backend == "jax":
        return JaxEngine(keras, dtype)
    if backend == "torch":
        return TorchEngine(keras)
    return TensorFlowEngine(keras)


def check_here(backend: str, device: str, dtype: str = "float32") -> None:
    """What `run` refuses at once about the machine, refused as it does by `validate`: a backend that
    is not installed, a GPU asked for where the backend sees none (only then is the backend loaded)."""
    if backend == "torch" and not _installed("torch"):
        raise UserError(NO_TORCH)
    if device == "gpu":
        load(backend, dtype).device(device)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@contextlib.contextmanager
def _quiet_stderr():
    # TensorFlow's C++ start-up notes ("Could not find cuda drivers ...") are written to
    # file descriptor 2 before TF_CPP_MIN_LOG_LEVEL is read; hide them, and only them
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _weighted_mean(ops, losses, data: tuple):
    """Keras' reduction of per-row losses: sum(w * loss) / rows with sample weights, else the mean."""
    return ops.mean(losses * data[2]) if len(data) > 2 else ops.mean(losses)


def _device(wanted: str, has_gpu: bool, backend: str) -> str:
    if wanted == "gpu" and not has_gpu:
        raise UserError(f"train.device: gpu was asked for, but {backend} sees no GPU here; allowed: auto, cpu")
    return "GPU:0" if has_gpu and wanted != "cpu" else "CPU:0"


class TensorFlowEngine:
    name = "tensorflow"

    def __init__(self, keras):
        import tensorflow as tf

        self.keras, self.tf = keras, tf

    def device(self, wanted: str) -> str:
        return _device(wanted, bool(self.tf.config.list_physical_devices("GPU")), self.name)

    def determinism(self, seed: int, device: str) -> dict:
        # TF32 changes matmul results at about 1e-4 relative on recent NVIDIA GPUs. TensorFlow has no
        # scoped form of either setting: they hold for the process, as the settings recorded say
        tf = self.tf
        tf.config.experimental.enable_op_determinism()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        settings = {
            "seed": seed,
            "op_determinism": True,
            "tensor_float_32": tf.config.experimental.tensor_float_32_execution_enabled(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),  # 0: TensorFlow's default
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        }
        if device.startswith("GPU"):
            gpu = tf.config.list_physical_devices("GPU")[0]
            settings["gpu"] = tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        return settings

    def placement(self, device: str):
        return self.tf.device(device)

    def used_device(self, model, device: str) -> str:
        return model.weights[0].value.device.rpartition("device:")[2] or device

    def step_runner(self, model, data: tuple) -> Callable[[int], None]:
        """n full-batch steps of Keras' own train_step on data = (x, y[, sample_weight]) inside one compiled loop."""
        tf = self.tf
        model.optimizer.build(model.trainable_variables)

        # on a CPU a plain tf.function: XLA's compiled loop took more time a step at every size measured,
        # and its compilation most of a small run's training (docs/benchmarks.md); on a GPU, XLA
        @tf.function(jit_compile=self._on_gpu(model))
        def loop(n):
            for _ in tf.range(n):
                model.train_step(data)

        return lambda n: loop(tf.constant(n, dtype=tf.int32))

    @staticmethod
    def _on_gpu(model) -> bool:
        return "GPU" in model.weights[0].value.device.upper()

    def evaluator(self, model, data: tuple, loss_fn, penalty=None) -> Callable[[], tuple]:
        """The loss as Keras trains it (sum(w * loss) / rows, plus the penalty), the fitted mean and
        the gradient, at the current weights."""
        tf = self.tf

        @tf.function
        def current():
            with tf.GradientTape() as tape:
                mu = model(data[0])
                loss = _weighted_mean(self.keras.ops, loss_fn(data[1], mu), data)
                if penalty is not None:
                    loss = loss + penalty(model.trainable_variables[0])
            grads = tape.gradient(loss, model.trainable_variables)
            return loss, mu, tf.concat([tf.reshape(g, [-1]) for g in grads], 0)

        return lambda: tuple(np.asarray(v) for v in current())

    def enable_float64(self) -> None:
        pass  # TensorFlow always has it

    def caveat(self, dtype: str) -> str | None:
        return None

    def derivatives(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """theta -> (gradient, Hessian) of f in float64, compiled once."""
        tf = self.tf
        var = None

        @tf.function
        def both():
            with tf.GradientTape() as outer:
                with tf.GradientTape() as inner:
                    value = f(var)
                grad = inner.gradient(value, var)
            return grad, outer.jacobian(grad, var)

        def at(theta: np.ndarray):
            nonlocal var
            if var is None:
                var = tf.Variable(theta, dtype="float64")
            else:
                var.assign(theta)
            g, h = both()
            return g.numpy(), h.numpy()

        return at

    def gradient(self, f: Callable) -> Callable[[np.ndarray], np.ndarray]:
        tf = self.tf

        @tf.function
        def grad(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = f(x)
            return tape.gradient(value, x)

        return lambda x: grad(tf.constant(x, dtype="float64")).numpy()

    def elementwise(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        tf = self.tf

        @tf.function
        def both(eta):
            with tf.GradientTape() as outer:
                outer.watch(eta)
                with tf.GradientTape() as inner:
                    inner.watch(eta)
                    value = tf.reduce_sum(f(eta))
                d1 = inner.gradient(value, eta)
            return d1, outer.gradient(d1, eta)  # the gradient of sum(d1): its diagonal, as f is elementwise

        def at(eta: np.ndarray):
            d1, d2 = both(tf.constant(eta[:, None], dtype=tf.float64))
            return d1.numpy()[:, 0], d2.numpy()[:, 0]

        return at


class JaxEngine:
    name = "jax"

    def __init__(self, keras, dtype: str):
        import jax

        # process-wide: JAX reads both wherever it traces (Keras' variables, the step loop, the curvature's
        # derivatives), across modules and after this call; its scoped forms would have to wrap every one of them
        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)  # JAX is 32-bit unless told
        jax.config.update("jax_default_matmul_precision", "highest")  # no TF32 on GPUs
        self.keras, self.jax = keras, jax

    def device(self, wanted: str) -> str:
        has_gpu = any(d.platform == "gpu" for d in self.jax.devices())
        return _device(wanted, has_gpu, self.name)

    def determinism(self, seed: int, device: str) -> dict:
        settings = {
            "seed": seed,
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "matmul_precision": "highest",
            "x64": bool(self.jax.config.read("jax_enable_x64")),
        }
        if device.startswith("GPU"):
            settings["gpu"] = self.jax.devices("gpu")[0].device_kind
        return settings

    def placement(self, device: str):
        kind = "gpu" if device.startswith("GPU") else "cpu"
        return self.jax.default_device(self.jax.devices(kind)[0])

    def used_device(self, model, device: str) -> str:
        d = next(iter(model.weights[0].value.devices()))
        return f"{d.platform.upper()}:{d.id}"

    @staticmethod
    def _state(model):
        return (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in model.optimizer.variables],
            [v.value for v in model.metrics_variables],
        )

    @staticmethod
    def _assign(model, state) -> None:
        groups = (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables, model.metrics_variables)
        for variables, values in zip(groups, state):
            for variable, value in zip(variables, values):
                variable.assign(value)

    def step_runner(self, model, data: tuple) -> Callable[[int], None]:
        """n full-batch steps of Keras' own (stateless) train_step inside one jitted fori_loop.
        The very first step goes through train_on_batch, which builds what fit builds."""
        jax = self.jax

        @jax.jit
        def loop(state, n):
            def body(_, s):
                return model.train_step(s, data)[1]

            return jax.lax.fori_loop(0, n, body, state)

        def run(n: int) -> None:
            if int(model.optimizer.iterations.numpy()) == 0:
                model.train_on_batch(*data)
                n -= 1
            if n > 0:
                self._assign(model, loop(self._state(model), n))

        return run

    def evaluator(self, model, data: tuple, loss_fn, penalty=None) -> Callable[[], tuple]:
        jax = self.jax
        ops = self.keras.ops

        def mean_loss(trainable, non_trainable):
            mu, _ = model.stateless_call(trainable, non_trainable, data[0])
            loss = _weighted_mean(ops, loss_fn(data[1], mu), data)
            return (loss if penalty is None else loss + penalty(trainable[0])), mu

        @jax.jit
        def current(trainable, non_trainable):
            (loss, mu), grads = jax.value_and_grad(mean_loss, has_aux=True)(trainable, non_trainable)
            return loss, mu, jax.numpy.concatenate([jax.numpy.ravel(g) for g in grads])

        def evaluate():
            trainable = [v.value for v in model.trainable_variables]
            non_trainable = [v.value for v in model.non_trainable_variables]
            return tuple(np.asarray(v) for v in current(trainable, non_trainable))

        return evaluate

    def enable_float64(self) -> None:
        # process-wide, as in __init__: the curvature's functions are traced later, outside any scope set here
        self.jax.config.update("jax_enable_x64", True)

    def caveat(self, dtype: str) -> str | None:
        return None

    def derivatives(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """theta -> (gradient, Hessian) of f in float64, compiled once."""
        jax = self.jax
        both = jax.jit(lambda theta: (jax.grad(f)(theta), jax.hessian(f)(theta)))

        def at(theta: np.ndarray):
            g, h = both(jax.numpy.asarray(theta, dtype="float64"))
            return np.asarray(g), np.asarray(h)

        return at

    def gradient(self, f: Callable) -> Callable[[np.ndarray], np.ndarray]:
        jax = self.jax
        grad = jax.jit(jax.grad(f))
        return lambda x: np.asarray(grad(jax.numpy.asarray(x, dtype="float64")))

    def elementwise(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        jax = self.jax
        first = jax.grad(lambda eta: jax.numpy.sum(f(eta)))
        both = jax.jit(lambda eta: (first(eta), jax.grad(lambda e: jax.numpy.sum(first(e)))(eta)))

        def at(eta: np.ndarray):
            d1, d2 = both(jax.numpy.asarray(eta[:, None], dtype="float64"))
            return np.asarray(d1)[:, 0], np.asarray(d2)[:, 0]

        return at


class TorchEngine:
    """PyTorch has no cheap compiled loop for this: a Python loop over Keras' train_step,
    the same step fit runs, a few milliseconds a step on a CPU. Correct, not fast."""

    name = "torch"

    def __init__(self, keras):
        import torch

        self.keras, self.torch = keras, torch

    def device(self, wanted: str) -> str:
        if wanted == "cpu" and self.torch.cuda.is_available():
            raise UserError(
                "train.device: cpu with backend torch on a machine with a GPU: Keras places PyTorch tensors on "
                "any visible GPU; run with CUDA_VISIBLE_DEVICES= to hide it"
            )
        return _device(wanted, self.torch.cuda.is_available(), self.name)

    def determinism(self, seed: int, device: str) -> dict:
        torch = self.torch
        # PyTorch has no scoped form of these: they hold for the process, as the settings recorded say
        torch.use_deterministic_algorithms(True)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        settings = {
            "seed": seed,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "tf32": torch.backends.cuda.matmul.allow_tf32,
            "threads": torch.get_num_threads(),
        }
        if device.startswith("GPU"):
            settings["gpu"] = torch.cuda.get_device_name(0)
        return settings

    def placement(self, device: str):
        # Keras already puts PyTorch tensors on the GPU when there is one (see device);
        # keras.device() around training loses the gradients in Keras 3.15
        return contextlib.nullcontext()

    def used_device(self, model, device: str) -> str:
        d = model.weights[0].value.device
        return "GPU:0" if d.type == "cuda" else "CPU:0"

    def step_runner(self, model, data: tuple) -> Callable[[int], None]:
        model.optimizer.build(model.trainable_variables)

        def run(n: int) -> None:
            for _ in range(n):
                model.train_step(data)

        return run

    def evaluator(self, model, data: tuple, loss_fn, penalty=None) -> Callable[[], tuple]:
        torch, ops = self.torch, self.keras.ops

        def current():
            weights = [v.value for v in model.trainable_variables]
            mu = model(data[0])
            loss = _weighted_mean(ops, loss_fn(data[1], mu), data)
            if penalty is not None:
                loss = loss + penalty(weights[0])
            grads = torch.autograd.grad(loss, weights)
            grad = np.concatenate([g.detach().cpu().numpy().ravel() for g in grads])
            return loss.detach().cpu().numpy(), mu.detach().cpu().numpy(), grad

        return current

    def enable_float64(self) -> None:
        pass  # PyTorch always has it

    def caveat(self, dtype: str) -> str | None:
        """What this backend cannot do for the run, found by trying it."""
        if dtype != "float64":
            return None
        x = self.torch.ones((2, 2), dtype=self.torch.float64)
        if self.keras.ops.matmul(x, x).dtype == self.torch.float64:
            return None
        return (
            f"Keras {self.keras.__version__} on PyTorch casts float64 matmul results to float32, "
            "so this float64 run reaches float32 precision only"
        )

    def derivatives(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """theta -> (gradient, Hessian) of f in float64."""
        torch = self.torch

        def at(theta: np.ndarray):
            t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(f(t), t)
            h = torch.autograd.functional.hessian(f, t.detach())
            return g.detach().cpu().numpy(), h.detach().cpu().numpy()

        return at

    def gradient(self, f: Callable) -> Callable[[np.ndarray], np.ndarray]:
        torch = self.torch

        def at(x: np.ndarray) -> np.ndarray:
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(f(t), t)
            return g.detach().cpu().numpy()

        return at

    def elementwise(self, f: Callable) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        torch = self.torch

        def at(eta: np.ndarray):
            e = torch.tensor(eta[:, None], dtype=torch.float64, requires_grad=True)
            (d1,) = torch.autograd.grad(f(e).sum(), e, create_graph=True)
            (d2,) = torch.autograd.grad(d1.sum(), e)
            return d1.detach().cpu().numpy()[:, 0], d2.detach().cpu().numpy()[:, 0]

        return at
