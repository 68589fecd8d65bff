"""The statistics: families and links, the GLM fit (statsmodels), penalties, preconditioning,
separation and standard errors. No TensorFlow here."""
