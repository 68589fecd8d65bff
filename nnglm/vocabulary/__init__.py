"""The vocabulary a config is checked against, shared by config, data and model: families and links,
file formats and database URLs, the formula language and R's term names, the synthetic generators, the tolerance."""
