"""The run folder: the result.json schema, writing a folder safely, reading folders back (runs,
compare), MLflow export. Reads JSON; never imports the training layer or TensorFlow."""
