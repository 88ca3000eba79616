"""``njit`` for workbench's kernels, without importing numba until a kernel needs it.

A kernel module writes ``from .._jit import njit`` (and ``intrinsic``, ``overload``, ``types``) in
place of numba's. ``njit(...)(f)`` returns a :class:`Kernel`: calling it runs the ahead-of-time
compiled code of ``workbench._aot`` when that module has an export for exactly the argument types
given, else numba's dispatcher for ``f`` (made, and numba imported, on first need) as before.
In a process served entirely by the compiled module numba is never imported: 0.1 s and ~40 MiB
less for every ``workbench`` command that reads a heap snapshot.

Exactness of the choice. An export is keyed by the numba types it was compiled for, turned into a
plain key by :func:`type_key`; a call's arguments are keyed by :func:`value_key`, which follows
``numba.typeof`` for the values workbench passes (``tests/test_jit.py`` checks the two agree on
every kind below, and that anything else gets no key):

- ndarray (the class itself; a subclass gets no key) -> ('a', kind, itemsize, ndim, layout,
  writeable, aligned=True as numba.typeof says for every array); layout 'C' if C-contiguous, else
  'F' if F-contiguous, else 'A' (numba's map_layout); native byte order and kinds b/i/u/f/c only;
- bool and numpy.bool_ -> boolean; int -> int64, or uint64 from 2^63 (numba's rule); float ->
  float64; a numpy scalar -> its dtype;
- tuple -> its elements' keys; None -> none.

A value of any other kind (a string, a list, a record, ...) has no key, so numba decides. A kernel
whose options are not plain (``nogil``, ``cache``, ``inline``) is never exported (``_aot``).

numba's own machinery still sees dispatchers: the first time numba is needed, the lazy
intrinsics and overloads are registered, and ``numba.typeof`` of a Kernel (a global of another
kernel being compiled) is its dispatcher's type.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

KERNELS: list = []       # every Kernel made, in order (the AOT build walks them)
_PENDING: list = []      # lazy intrinsics and overloads, registered when numba is first needed
_READY: list = []
_LOCK = threading.RLock()


class _LazyTypes:
    """``numba.types``, imported on first attribute access (intrinsic and overload bodies only
    run while numba types a kernel)."""

    def __getattr__(self, name):
        import numba
        return getattr(numba.types, name)


types = _LazyTypes()


def numba_ready() -> None:
    """Import numba and register what the kernel modules declared lazily (once)."""
    if _READY:
        return
    with _LOCK:
        if _READY:
            return
        import numba
        from numba.core import types as nbtypes
        from numba.extending import typeof_impl

        @typeof_impl.register(Kernel)
        def _typeof_kernel(val, c):
            return nbtypes.Dispatcher(val.dispatcher)

        for kind, module, name, fn, opts in _PENDING:
            if kind == "intrinsic":
                real = numba.extending.intrinsic(fn, **opts) if opts else numba.extending.intrinsic(fn)
                setattr(sys.modules[module], name, real)
            else:
                numba.extending.overload(fn, **opts)(name)
        _PENDING.clear()
        _READY.append(True)


def intrinsic(fn=None, **opts):
    """numba.extending.intrinsic, registered when numba is first needed; until then the module
    global is this placeholder (only kernels, typed after registration, refer to it)."""
    def deco(f):
        _PENDING.append(("intrinsic", f.__module__, f.__name__, f, opts))
        return f
    return deco(fn) if fn is not None else deco


def overload(target, **opts):
    """numba.extending.overload(target), registered when numba is first needed."""
    def deco(impl):
        _PENDING.append(("overload", impl.__module__, impl, target, opts))
        return impl
    return deco


class Kernel:
    """A numba kernel that may be served by the ahead-of-time module (see the module docstring)."""

    def __init__(self, py_func, options: dict):
        self.py_func = py_func
        self.options = options
        self._dispatcher = None
        self.aot: dict | None = None      # value key -> compiled function (workbench._aot.install)
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__
        self.__doc__ = py_func.__doc__
        self.__wrapped__ = py_func
        KERNELS.append(self)

    @property
    def dispatcher(self):
        d = self._dispatcher
        if d is None:
            numba_ready()
            with _LOCK:
                if self._dispatcher is None:
                    import numba
                    self._dispatcher = numba.njit(**self.options)(self.py_func)
                d = self._dispatcher
        return d

    def __call__(self, *args):
        table = self.aot
        if table is not None:
            f = table.get(value_key(args))
            if f is not None:
                return f(*args)
        return self.dispatcher(*args)

    def __getattr__(self, name):   # numba's dispatcher API (overloads, signatures, compile, ...)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)

    def __repr__(self) -> str:
        return f"<workbench kernel {self.__module__}.{self.__qualname__}>"


def njit(*args, **options):
    """``@njit(cache=True, nogil=True, ...)`` or ``@njit``: a :class:`Kernel`."""
    if args and callable(args[0]) and not options:
        return Kernel(args[0], {})
    return lambda f: Kernel(f, options)


# ---------------------------------------------------------------------------------------------
# keys
_I64_MIN, _I64_END, _U64_END = -(1 << 63), 1 << 63, 1 << 64


def _array_key(a: np.ndarray):
    dt = a.dtype
    if not dt.isnative or dt.kind not in "biufc" or dt.fields is not None:
        return None
    fl = a.flags
    layout = "C" if fl.c_contiguous else "F" if fl.f_contiguous else "A"
    # numba.typeof gives every array aligned=True (an unaligned view too): so does the key
    return ("a", dt.kind, dt.itemsize, a.ndim, layout, bool(fl.writeable), True)


def _one(v):
    # exact classes only: a subclass (an IntEnum, a named tuple, an ndarray subclass) may be
    # typed otherwise by numba, and then numba decides
    c = type(v)
    if c is np.ndarray:
        return _array_key(v)
    if c is bool or c is np.bool_:
        return ("s", "b", 1)
    if c is int:
        if _I64_MIN <= v < _I64_END:
            return ("s", "i", 8)
        return ("s", "u", 8) if 0 <= v < _U64_END else None
    if c is float:
        return ("s", "f", 8)
    if c is tuple:
        keys = tuple(_one(x) for x in v)
        return None if None in keys else ("t",) + keys
    if v is None:
        return ("n",)
    if isinstance(v, np.generic) and c.__module__ == "numpy":
        dt = v.dtype
        return ("s", dt.kind, dt.itemsize) if dt.kind in "iufc" and dt.isnative else None
    return None


def value_key(args: tuple):
    """The key of a call's arguments (None if any has no key: numba then decides)."""
    keys = tuple(_one(v) for v in args)
    return None if None in keys else keys


def type_key(argtypes) -> tuple | None:
    """The key of a numba signature's argument types (None if any kind is not keyed)."""
    from numba.core import types as t
    from numba.np.numpy_support import as_dtype

    def one(ty):
        if isinstance(ty, t.Array):
            try:
                dt = as_dtype(ty.dtype)
            except Exception:
                return None
            if dt.kind not in "biufc":
                return None
            return ("a", dt.kind, dt.itemsize, ty.ndim, ty.layout, bool(ty.mutable), bool(ty.aligned))
        if isinstance(ty, t.Boolean):
            return ("s", "b", 1)
        if isinstance(ty, (t.Integer, t.Float, t.Complex)) and not isinstance(ty, t.Literal):
            dt = as_dtype(ty)
            return ("s", dt.kind, dt.itemsize)
        if isinstance(ty, t.BaseTuple) and not isinstance(ty, t.BaseNamedTuple):
            keys = tuple(one(x) for x in ty.types)
            return None if None in keys else ("t",) + keys
        if isinstance(ty, t.NoneType):
            return ("n",)
        return None

    keys = tuple(one(ty) for ty in argtypes)
    return None if None in keys else keys
