"""The network: one Dense layer trained full-batch in a Keras backend (engines in backends.py), the
hidden-layer network of seed 003, and the same steps in NumPy as a reference."""
