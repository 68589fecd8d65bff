"""A config's data made into a design: files by format, the formula language, generators, data frames,
checks on what is read. No TensorFlow here."""
