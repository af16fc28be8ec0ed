"""closs's C library from Python's ctypes (no compiler, no NumPy, no closs package):

    python closs_ctypes.py [/path/to/libcloss.so]

Without a path, ctypes.util.find_library("closs") looks where the system's
linker looks (LD_LIBRARY_PATH, ldconfig's cache). The prototypes are closs.h's:
closs_status and closs_reduction are C enums (int), int64_t is c_int64, arrays
are pointers (ctypes arrays here; NumPy users pass arr.ctypes.data_as(...)).
"""

import ctypes
import ctypes.util
import math
import sys

CLOSS_OK, CLOSS_ERR_INDEX_OUT_OF_RANGE = 0, 5
CLOSS_REDUCTION_NONE, CLOSS_REDUCTION_MEAN = 0, 1

f32p, f64p = ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_double)
i64p, i64 = ctypes.POINTER(ctypes.c_int64), ctypes.c_int64


def load(path=None):
    path = path or ctypes.util.find_library("closs")
    if path is None:
        raise OSError("libcloss not found: pass its path or set LD_LIBRARY_PATH")
    lib = ctypes.CDLL(path)
    signatures = {  # name: (restype, argtypes), from closs.h
        "closs_version_string": (ctypes.c_char_p, []),
        "closs_status_string": (ctypes.c_char_p, [ctypes.c_int]),
        "closs_mse_loss_fused_f32": (ctypes.c_int, [i64, f32p, f32p, f32p, ctypes.c_int,
                                                    f32p, f32p]),
        "closs_cross_entropy_f64": (ctypes.c_int, [i64, i64, i64, f64p, i64p, f64p, i64,
                                                   ctypes.c_double, ctypes.c_int, f64p]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def near(a, b):
    return abs(a - b) <= 1e-6 * (1 + abs(b))


def main(path=None):
    lib = load(path)
    x = (ctypes.c_float * 4)(1, 2, 3, 4)
    y = (ctypes.c_float * 4)(0, 2, 5, 4)
    out, grad = ctypes.c_float(), (ctypes.c_float * 4)()
    st = lib.closs_mse_loss_fused_f32(4, x, y, None, CLOSS_REDUCTION_MEAN, ctypes.byref(out),
                                      grad)
    ok = st == CLOSS_OK and near(out.value, 1.25) and all(
        near(g, e) for g, e in zip(grad, [0.5, 0, -1, 0]))

    logits = (ctypes.c_double * 6)(0, 0, 0, 1, 2, 3)
    rows = (ctypes.c_double * 2)()
    st = lib.closs_cross_entropy_f64(2, 3, 1, logits, (i64 * 2)(0, 2), None, -100, 0.0,
                                     CLOSS_REDUCTION_NONE, rows)
    ok = ok and st == CLOSS_OK and near(rows[0], math.log(3)) and near(
        rows[1], math.log(1 + math.exp(-1) + math.exp(-2)))
    st = lib.closs_cross_entropy_f64(2, 3, 1, logits, (i64 * 2)(0, 7), None, -100, 0.0,
                                     CLOSS_REDUCTION_MEAN, rows)
    ok = ok and st == CLOSS_ERR_INDEX_OUT_OF_RANGE
    print("expected error:", lib.closs_status_string(st).decode())
    print(f"closs {lib.closs_version_string().decode()} from ctypes: mse {out.value:.4f}, "
          f"cross_entropy rows {rows[0]:.6f} {rows[1]:.6f}: {'ok' if ok else 'WRONG'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
