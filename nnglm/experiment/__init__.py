"""An experiment, one run or many: the runner (config -> data -> fits -> comparison -> run folder), the verdict,
held-out rows, the run cache, sweeps on processes or a Dask cluster."""
