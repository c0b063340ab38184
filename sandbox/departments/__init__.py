"""The played departments, one module each."""
