"""Calls through a function's address, and pointers from addresses, in compiled code.

The trajectory loop (:mod:`optsim.engine._driver`) is compiled once.  It reaches the
problem's, the optimizer's and the schedule's functions through the addresses of
C-callable entry points (``numba.cfunc``, see :mod:`optsim.engine.codegen`), handed to
every call in small integer tables.

``call_void(addr, args)`` and ``call_f64(addr, args)`` call the C function at ``addr``
with the scalars of the tuple ``args`` (integers and floats; an array's data pointer is
``addr_of(array)``, an integer).  On x86-64 and AArch64 a pointer argument is passed
exactly like a 64-bit integer, so the callee may declare it as ``double*``.  Inside an
entry point, ``pointer(addr, dtype)`` turns such an integer back into a typed pointer
for ``numba.carray``.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["addr_of", "call_f64", "call_i64", "call_void", "pointer"]


def _caller(ret):
    def typer(typingctx, addr, args):
        if not isinstance(addr, types.Integer) or not isinstance(args, types.BaseTuple):
            return None
        if not all(isinstance(t, (types.Integer, types.Float)) for t in args.types):
            return None

        def codegen(context, builder, signature, llargs):
            fn_addr, tup = llargs
            argtys = [context.get_value_type(t) for t in args.types]
            rty = ir.VoidType() if ret is types.void else context.get_value_type(ret)
            fnptr = builder.inttoptr(fn_addr, ir.FunctionType(rty, argtys).as_pointer())
            vals = [builder.extract_value(tup, i) for i in range(len(args.types))]
            res = builder.call(fnptr, vals)
            return context.get_dummy_value() if ret is types.void else res

        return ret(addr, args), codegen

    typer.__name__ = f"call_{ret}"
    return intrinsic(typer)


call_void = _caller(types.void)
call_f64 = _caller(types.float64)
call_i64 = _caller(types.int64)


@intrinsic
def addr_of(typingctx, arr):
    """The address of ``arr``'s first element, as an int64."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, llargs):
        ary = context.make_array(arr)(context, builder, llargs[0])
        return builder.ptrtoint(ary.data, cgutils.intp_t)

    return types.int64(arr), codegen


@intrinsic
def pointer(typingctx, addr, dtype):
    """The integer ``addr`` as a pointer to ``dtype`` (a NumPy scalar type, e.g. ``np.float64``)."""
    if not isinstance(addr, types.Integer) or not isinstance(dtype, types.NumberClass):
        return None
    ptr = types.CPointer(dtype.dtype)

    def codegen(context, builder, signature, llargs):
        return builder.inttoptr(llargs[0], context.get_value_type(ptr))

    return ptr(addr, dtype), codegen
