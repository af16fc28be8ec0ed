"""The public header as people and tools read it: src/closs/closs.h without a preprocessor.

A C parser (pycparser, and cffi's cdef, which bindings use) reads the header after
only the visibility macro CLOSS_API, comments and preprocessor lines are removed;
every function the shared library exports must have a prototype there and every
prototype an exported function; cffi then calls the library through the parsed
declarations. The version must be the same everywhere it is visible.

The shared library is the meson build's (-Dpython=false): CLOSS_SHARED_LIB names
one already built (its build directory holds closs_version.h); otherwise it is
built once per session, unoptimised and serial, in a temporary directory.
"""

import importlib.metadata
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import closs

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "src" / "closs" / "closs.h"
DTYPES = {"f32": np.float32, "f64": np.float64}


def _strip(text):
    """The header minus what a C parser cannot take: comments, preprocessor lines
    (with their continuations), the C++ extern "C" lines inside #ifdef __cplusplus,
    and the visibility macro CLOSS_API. Nothing else changes."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"\\\n", " ", text)
    out, cplusplus, depth = [], False, 0
    for line in text.splitlines():
        directive = line.strip()
        if directive.startswith("#"):
            if cplusplus:
                depth += directive.startswith("#if")
                depth -= directive.startswith("#endif")
                cplusplus = depth > 0
            elif directive.replace(" ", "") == "#ifdef__cplusplus":
                cplusplus, depth = True, 1
            continue
        if not cplusplus:
            out.append(line)
    stripped = "\n".join(out)
    return re.sub(r"\bCLOSS_API\b", "", stripped)


@pytest.fixture(scope="module")
def header():
    return HEADER.read_text()


@pytest.fixture(scope="module")
def prototypes(header):
    """{name: pycparser FuncDecl} of every function the header declares."""
    c_ast = pytest.importorskip("pycparser.c_ast")
    from pycparser import CParser

    # <stdint.h>, which the parser is not given, supplies int64_t.
    ast = CParser().parse("typedef long long int64_t;\n" + _strip(header), filename=str(HEADER))
    return {d.name: d.type for d in ast.ext
            if isinstance(d, c_ast.Decl) and isinstance(d.type, c_ast.FuncDecl)}


def test_every_prototype_is_written_out_with_its_name(header, prototypes):
    # grep finds a prototype: the name followed by its parenthesis, after CLOSS_API
    exported = set(re.findall(r"CLOSS_API\s+[^;(]*?\b(closs_\w+)\(", header))
    assert "closs_cross_entropy_fused_f64" in exported
    assert exported == set(prototypes)
    # nothing generated: the header defines no function-like macro
    assert not re.search(r"#\s*define\s+\w+\(", header)


OPS = ("", "_backward", "_fused", "_partial")


def test_every_loss_has_eight_functions(prototypes):
    losses = {m.group(1) for name in prototypes
              for m in [re.fullmatch(r"closs_(\w+?)(_backward|_fused|_partial)?_f(32|64)", name)]
              if m and "_grad_hess_" not in name and "_grads_" not in name}
    library = {"closs_version_string", "closs_version_number", "closs_status_string",
               "closs_has_openmp", "closs_build_info", "closs_simd_level", "closs_set_num_threads",
               "closs_get_num_threads"}
    second_order = {n for n in prototypes if re.fullmatch(r"closs_\w+_grad_hess_f(32|64)", n)}
    every_grad = {n for n in prototypes if re.fullmatch(r"closs_\w+_grads_f(32|64)", n)}
    assert set(prototypes) - library - second_order - every_grad == {
        f"closs_{loss}{op}_{sfx}" for loss in losses for op in OPS for sfx in DTYPES}
    assert library <= set(prototypes) and "cross_entropy" in losses
    for loss in losses:
        for op in OPS:
            for sfx in DTYPES:
                name = f"closs_{loss}{op}_{sfx}"
                assert name in prototypes, name
                assert prototypes[name].type.type.names == ["closs_status"], name


def test_grads_take_the_backward_arguments_then_every_gradient(prototypes):
    """closs_<loss>_grads_<dtype>: backward's parameters up to grad_output, then out, the
    input's gradient(s) and grad_target (grad_weight, grad_var where the loss has them)."""
    grads = sorted(n for n in prototypes if re.fullmatch(r"closs_\w+_grads_f(32|64)", n))
    assert len(grads) == 2 * 13
    for name in grads:
        params = [p.name for p in prototypes[name].args.params]
        backward = [p.name for p in prototypes[name.replace("_grads_", "_backward_")].args.params]
        k = backward.index("grad_output") + 1
        assert params[:k] == backward[:k], name
        assert params[k] == "out" and "grad_target" in params[k + 1:], name


def test_a_partial_takes_the_forward_arguments_and_two_doubles(prototypes):
    """closs_<loss>_partial_<dtype>: the forward function's parameters, its out a double *."""
    def params(name):
        return [(p.name, type(p.type).__name__) for p in prototypes[name].args.params]

    def pointee(name):
        last = prototypes[name].args.params[-1].type
        return last.type.type.names

    forwards = [n for n in prototypes if re.fullmatch(r"closs_\w+_f(32|64)", n)
                and not re.search(r"_(backward|fused|partial)_f(32|64)$", n)
                and n.replace("_f32", "_partial_f32").replace("_f64", "_partial_f64") in prototypes]
    assert len(forwards) >= 40
    for name in forwards:
        partial = re.sub(r"_(f32|f64)$", r"_partial_\1", name)
        assert params(partial) == params(name), partial
        assert pointee(partial) == ["double"], partial


SECOND_ORDER = {"l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                "binary_cross_entropy_with_logits", "soft_margin_loss", "hinge_embedding_loss",
                "poisson_nll_loss", "kl_div", "gaussian_nll_loss", "nll_loss", "cross_entropy",
                "cross_entropy_prob"}


def test_a_grad_hess_takes_the_forward_arguments_without_the_reduction(prototypes):
    """closs_<loss>_grad_hess_<dtype> of the element-wise and classification losses:
    the forward's parameters before the reduction, then out, grad, hess of the dtype."""
    def params(name):
        return [(p.name, type(p.type).__name__) for p in prototypes[name].args.params]

    found = {m.group(1) for n in prototypes
             for m in [re.fullmatch(r"closs_(\w+)_grad_hess_f(32|64)", n)] if m}
    assert found == SECOND_ORDER
    for loss in SECOND_ORDER:
        for sfx, ctype in (("f32", "float"), ("f64", "double")):
            gh, fwd = params(f"closs_{loss}_grad_hess_{sfx}"), params(f"closs_{loss}_{sfx}")
            assert fwd[-2:] == [("reduction", "TypeDecl"), ("out", "PtrDecl")]
            assert gh == fwd[:-2] + [("out", "PtrDecl"), ("grad", "PtrDecl"), ("hess", "PtrDecl")]
            last = prototypes[f"closs_{loss}_grad_hess_{sfx}"].args.params[-1].type
            assert last.type.type.names == [ctype]


def test_the_header_declares_nothing_internal(header):
    names = set(re.findall(r"#\s*define\s+(\w+)", header))
    assert names == {"CLOSS_H", "CLOSS_API", "CLOSS_VERSION_NUMBER", "CLOSS_MAX_ELEMENTS"}
    for internal in ("CLOSS_UNPAREN", "CLOSS_CTC_ARGS", "CLOSS_DECLARE"):
        assert internal not in header


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """(path of libcloss.so, its meson build directory)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("reads exported symbols with nm -D (ELF)")
    given = os.environ.get("CLOSS_SHARED_LIB")
    if given:
        path = pathlib.Path(given).resolve()
        return path, path.parent
    meson = shutil.which("meson", path=os.path.dirname(sys.executable)) or shutil.which("meson")
    if meson is None:
        pytest.skip("meson is needed to build the C library (or set CLOSS_SHARED_LIB)")
    build = tmp_path_factory.mktemp("closs-c")
    options = ["-Dpython=false", "-Dtests=false", "-Dopenmp=disabled",
               "-Dsimd_dispatch=disabled", "-Dbuildtype=plain"]
    for cmd in ([meson, "setup", str(build), str(ROOT)] + options,
                [meson, "compile", "-C", str(build)]):
        run = subprocess.run(cmd, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return build / "libcloss.so", build


def test_exported_symbols_and_prototypes_are_the_same_set(library, prototypes):
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm is needed to list exported symbols")
    listing = subprocess.run([nm, "-D", "--defined-only", str(library[0])],
                             capture_output=True, text=True, check=True).stdout
    exported = {fields[2] for fields in (line.split() for line in listing.splitlines())
                if len(fields) == 3 and fields[1] in "TDBR"}
    assert len(exported) > 100
    assert exported == set(prototypes)


@pytest.fixture(scope="module")
def ffi_lib(header, library):
    cffi = pytest.importorskip("cffi")
    ffi = cffi.FFI()
    ffi.cdef(_strip(header))
    return ffi, ffi.dlopen(str(library[0]))


def test_cffi_calls_the_library_through_the_header(ffi_lib):
    ffi, lib = ffi_lib
    rng = np.random.default_rng(12)
    for sfx, dtype in DTYPES.items():
        x = rng.standard_normal(37).astype(dtype)
        y = rng.standard_normal(37).astype(dtype)
        w = rng.random(37).astype(dtype)
        ctype = "float *" if sfx == "f32" else "double *"
        out = np.empty(1, dtype)
        grad = np.empty(37, dtype)
        p = lambda a: ffi.cast(ctype, a.ctypes.data)  # noqa: E731
        fused = getattr(lib, f"closs_mse_loss_fused_{sfx}")
        assert fused(37, p(x), p(y), p(w), lib.CLOSS_REDUCTION_SUM, p(out), p(grad)) == lib.CLOSS_OK
        d = x.astype(np.float64) - y
        np.testing.assert_allclose(out[0], np.sum(w * d * d), rtol=1e-5)
        np.testing.assert_allclose(grad, 2 * w * d, rtol=1e-5)
        # the reserved BATCHMEAN is rejected, as the header says
        forward = getattr(lib, f"closs_mse_loss_{sfx}")
        assert forward(37, p(x), p(y), ffi.NULL, lib.CLOSS_REDUCTION_BATCHMEAN,
                       p(out)) == lib.CLOSS_ERR_INVALID_REDUCTION
    assert ffi.string(lib.closs_status_string(lib.CLOSS_ERR_DOMAIN)).startswith(b"CLOSS_ERR_DOMAIN:")
    assert lib.closs_set_num_threads(0) == lib.CLOSS_ERR_INVALID_ARGUMENT


def test_the_version_is_the_same_everywhere(library, ffi_lib):
    ffi, lib = ffi_lib
    written = re.search(r"^\s*version:\s*'([^']+)'", (ROOT / "meson.build").read_text(), re.M)
    version = written.group(1)
    generated = (library[1] / "closs_version.h").read_text()
    macros = dict(re.findall(r"#define (CLOSS_VERSION_\w+) (\S+)", generated))
    assert macros["CLOSS_VERSION_STRING"] == f'"{version}"'
    assert ".".join(macros[f"CLOSS_VERSION_{p}"] for p in ("MAJOR", "MINOR", "PATCH")) == version
    assert ffi.string(lib.closs_version_string()).decode() == version
    major, minor, patch = (int(v) for v in version.split("."))
    assert lib.closs_version_number() == major * 10000 + minor * 100 + patch
    assert closs.__version__ == version
    assert importlib.metadata.version("closs") == version
