"""What a person reads: the summary table, report.md/report.html and the plots, drawn from a run's
folder. Never imports the training layer or TensorFlow."""
