"""BLAS routines numba kernels call directly (SciPy's LP64 BLAS, through ctypes pointers).

numba's ``np.dot`` only offers GEMM; the Gram matrices of the exact solver are symmetric, so
SYRK does half the work. The function pointers are passed to the kernels as arguments (not
globals), which keeps the kernels cacheable (``cache=True``): a pointer baked into compiled
code would change with every process.
"""

from __future__ import annotations

import ctypes

from tuner._compat import blas_function_address

_vp = ctypes.c_void_p

#: dsyrk(uplo, trans, n, k, alpha, a, lda, beta, c, ldc), every argument by reference:
#: C := alpha * op(A) op(A)^T + beta * C on one triangle (Fortran column-major).
DSYRK = ctypes.CFUNCTYPE(None, _vp, _vp, _vp, _vp, _vp, _vp, _vp, _vp, _vp, _vp)(
    blas_function_address("dsyrk")
)
