"""The trajectory engine: generated numba kernels and the plans that run them."""
