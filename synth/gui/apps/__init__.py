"""App templates, one module each; every module registers its app as a task family."""
