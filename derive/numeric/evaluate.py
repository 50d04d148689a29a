"""Evaluate a SymPy tree at a point with mpmath, without lambdify: the expression compiler.

Why our own evaluator: it must evaluate *unevaluated* derivatives numerically (mpmath.diff is our
independent oracle), recompute softmax outputs from perturbed logits, run Sums over a concrete K,
and never execute text. Trees are compiled once into closures, then run at many points.
"""
from __future__ import annotations

import functools
from typing import Callable

import mpmath
import sympy as sp
from mpmath.libmp import mpf_mul, mpf_sum
from sympy.matrices.expressions import (DiagMatrix, HadamardProduct, MatAdd, MatMul, MatrixSymbol, Transpose)
from sympy.matrices.expressions.matexpr import MatrixElement

from ..symbols import K
from .state import Env, EvaluationError, LazyMatrix, NotAnInput


Compiled = Callable[[Env], object]


def compile_expr(expr: sp.Basic) -> Compiled:
    """Turn a tree into a closure env -> value; unknown node types fail loudly."""
    builder = _BUILDER_OF.get(type(expr))
    if builder is None:
        builder = next((builder for kind, builder in _DISPATCH if isinstance(expr, kind)), None)
        if builder is None:
            raise EvaluationError(f"cannot evaluate {type(expr).__name__}: {expr}")
        _BUILDER_OF[type(expr)] = builder
    return builder(expr)


def evaluate(expr: sp.Basic, env: Env):
    return compile_expr(expr)(env)


# --- node builders -----------------------------------------------------------------------------

def _number(expr):
    """A number at the precision it is used at, not the one it was compiled at: 1/3 compiled
    outside mpmath.workdps(50) and used inside would carry a 53-bit error (1e-17)."""
    if expr.is_Integer and abs(expr.p) < 2 ** 53:
        value = mpmath.mpf(expr.p)  # exact at every precision
        return lambda env: value
    text = None if expr.is_Rational else str(expr.evalf(80))
    by_precision: dict = {}

    def run(env):
        precision = mpmath.mp.prec
        value = by_precision.get(precision)
        if value is None:
            value = by_precision[precision] = (mpmath.mpf(expr.p) / expr.q if text is None else mpmath.mpf(text))
        return value
    return run


def _constant(expr):
    if expr == sp.E:
        return lambda env: mpmath.e
    if expr == sp.pi:
        return lambda env: mpmath.pi
    raise EvaluationError(f"cannot evaluate constant {expr}")


_UNBOUND = object()


def _symbol(expr):
    def run(env):
        value = env.scalars.get(expr, _UNBOUND)  # one hash of the symbol, not two
        if value is not _UNBOUND:
            return value
        if expr.name in env.arrays or expr.name in env.derived:  # a derived scalar, or a whole vector
            value = env.array(expr.name)
            return mpmath.matrix(value) if isinstance(value, (list, tuple)) else value
        if expr.name == "K":
            return env.K
        raise EvaluationError(f"no value for symbol {expr}")
    return run


def _add(expr):
    parts = [compile_expr(a) for a in expr.args]
    if len(parts) == 2:
        first, second = parts
        return lambda env: first(env) + second(env)
    def run(env):
        raw = []  # the terms' mpf values: fsum's own sum (libmp.mpf_sum at the working precision and
        for index, part in enumerate(parts):  # rounding), without fsum asking each term its kind again
            value = part(env)
            if type(value) is not mpmath.mpf:  # a matrix, a Python int, a complex value
                return _add_in_order([mpmath.mp.make_mpf(v) for v in raw] + [value], parts[index + 1:], env)
            raw.append(value._mpf_)
        return mpmath.mp.make_mpf(mpf_sum(raw, *mpmath.mp._prec_rounding))  # rounded once, not K - 1 times
    products = _products_of_entries(expr) if len(parts) >= _MANY_TERMS else None
    if products is None:
        return run
    def by_tables(env):
        total = products(env)
        return run(env) if total is None else total
    return by_tables


_MANY_TERMS = 16  # below this, reading each term's arrays anew costs little


def _products_of_entries(expr):
    """A sum of products of numbers, fixed entries and logs of fixed entries, each ending in an
    entry (a loss: N K terms -Y_nk log P_nk / N), as a function env -> the sum, or None where the
    per-term closures are needed (an array missing or of another kind, an index out of range, a
    value not a real mpf: they then give the value or the error).

    The same numbers as the closures: each term the same product, left to right, at the working
    precision and rounding (libmp.mpf_mul, which mpf's * calls), and the terms added by
    libmp.mpf_sum, which fsum calls. What is saved: each array is looked up once per evaluation,
    not once per term, and each term's leading product (-Y_nk / N) is kept while the arrays it
    reads are the same objects at the same precision (a point's arrays are never changed in place,
    Env.with_entry copies): a numeric dL/dW_rc evaluates the loss with only W, hence log P, moved."""
    readers: dict = {}  # (kind, base name, rank) -> its index in `tables`
    plans = []
    for term in expr.args:
        plan = []
        for factor in sp.Mul.make_args(term):
            if factor.is_Number:
                plan.append((None, compile_expr(factor)))
            elif _fixed_entry(factor) or isinstance(factor, sp.log) and _fixed_entry(factor.args[0]):
                entry = factor if isinstance(factor, sp.Indexed) else factor.args[0]
                source = ("log" if entry is not factor else "array", entry.base.name, len(entry.indices))
                position = tuple(int(ix) - 1 for ix in entry.indices)
                plan.append((readers.setdefault(source, len(readers)), position if len(position) == 2 else position[0]))
            else:
                return None
        if plan[-1][0] is None:
            return None
        plans.append((tuple(plan[:-1]), plan[-1]))
    reads = [_table_reader(*source) for source in readers]
    leading = sorted({table for lead, _last in plans for table, _key in lead if table is not None})
    kept: dict = {}  # the leading products, with the precision and the tables they were made from

    def leading_products(env, tables, prec, rounding):
        products = []
        for lead, _last in plans:
            product = None
            for table, key in lead:
                value = key(env) if table is None else tables[table][key]
                if type(value) is not mpmath.mpf:
                    return None
                product = value._mpf_ if product is None else mpf_mul(product, value._mpf_, prec, rounding)
            products.append(product)
        return products

    def run(env):
        tables = [read(env) for read in reads]
        if any(table is None for table in tables):
            return None
        prec, rounding = mpmath.mp._prec_rounding
        sources = (prec, rounding, *(tables[table] for table in leading))
        try:
            if len(kept.get("sources", ())) != len(sources) or any(a is not b for a, b in zip(kept["sources"], sources)):
                kept.update(sources=sources, products=leading_products(env, tables, prec, rounding))
            products = kept["products"]
            if products is None:
                return None
            values = []
            for product, (_lead, (table, key)) in zip(products, plans):
                value = tables[table][key]
                if type(value) is not mpmath.mpf:
                    return None
                values.append(value._mpf_ if product is None else mpf_mul(product, value._mpf_, prec, rounding))
        except (IndexError, KeyError, TypeError):
            kept.clear()
            return None
        return mpmath.mp.make_mpf(mpf_sum(values, prec, rounding))  # as fsum makes it: no second rounding
    return run


def _table_reader(kind, name, rank):
    """env -> the array a factor reads from (log_<name> for a log, where the point derives one),
    as its own closure reads it, or None."""
    wanted = (mpmath.matrix, LazyMatrix) if rank == 2 else list
    def read(env):
        if kind == "log" and (f"log_{name}" not in env.derived or name in env.arrays):
            return None  # given values: their own log, per term
        try:
            values = env.array(f"log_{name}" if kind == "log" else name)
        except EvaluationError:
            return None
        return values if isinstance(values, wanted) else None
    return read


def _fixed_entry(expr) -> bool:
    return isinstance(expr, sp.Indexed) and len(expr.indices) in (1, 2) and \
        all(ix.is_Integer and int(ix) >= 1 for ix in expr.indices)


def _add_in_order(values, rest, env):
    """Left to right, one addition at a time: matrices and mixed kinds, exactly as written."""
    total = values[0]
    for value in values[1:]:
        total = total + value
    for part in rest:
        total = total + part(env)
    return total


def _mul(expr):
    parts = [compile_expr(a) for a in expr.args]
    if len(parts) == 2:
        first, second = parts
        return lambda env: first(env) * second(env)
    if len(parts) == 3:  # -y_k log sigma_k / N: each of a loss's N K terms, without the loop
        first, second, third = parts
        return lambda env: first(env) * second(env) * third(env)
    def run(env):
        product = parts[0](env)
        for part in parts[1:]:
            product = product * part(env)
        return product
    return run


def _pow(expr):
    base, exponent = compile_expr(expr.base), compile_expr(expr.exp)
    return lambda env: mpmath.power(base(env), exponent(env))


def _unary(fn):
    """Scalar functions; applied entry by entry to a matrix (log of a vector is elementwise)."""
    def build(expr):
        inner = compile_expr(expr.args[0])
        def run(env):
            value = inner(env)
            return value.apply(fn) if isinstance(value, mpmath.matrix) else fn(value)
        return run
    return build


def _log(expr):
    """log of a derived entry (log sigma_k, log P_nk) read from the derived array log_<name> where
    the point provides one: a loss of K logs then costs one log per softmax, not K."""
    generic = _unary(mpmath.log)(expr)
    inner = expr.args[0]
    if not (isinstance(inner, sp.Indexed) and len(inner.indices) in (1, 2)
            and all(ix.is_Integer and int(ix) >= 1 for ix in inner.indices)):
        return generic
    name, logs = inner.base.name, f"log_{inner.base.name}"
    position = tuple(int(ix) - 1 for ix in inner.indices)
    def run(env):
        if logs not in env.derived or name in env.arrays:  # given values: their own log
            return generic(env)
        values = env.array(logs)
        if isinstance(values, (mpmath.matrix, LazyMatrix)) != (len(position) == 2):  # P_nk: a matrix; sigma_k: a list
            return generic(env)
        try:
            return values[position] if len(position) == 2 else values[position[0]]
        except IndexError:
            return generic(env)  # its error message
    return run


def _index_value(compiled, env) -> int:
    value = compiled(env)
    if type(value) is int:  # a Sum's dummy, i, j or K: already one
        return value
    as_int = int(value)
    if as_int != value:
        raise EvaluationError(f"index {value} is not an integer")
    return as_int


def _indexed(expr):
    name = expr.base.name
    if all(ix.is_Integer for ix in expr.indices):
        return _indexed_at(expr, name, tuple(int(ix) - 1 for ix in expr.indices))
    indices = [compile_expr(ix) for ix in expr.indices]
    if len(indices) == 1:  # sigma_k in a Sum: the commonest entry, without the general path's lists
        index, = indices
        symbol = expr.indices[0] if expr.indices[0].is_Symbol else None
        def entry(env):
            values = env.array(name)
            # y_i, sigma_k: the index's value read here when it is bound to an int (a Sum's dummy, a free
            # index); anything else (K, a number, an error) as _index_value gives it
            value = env.scalars.get(symbol, _UNBOUND) if symbol is not None else _UNBOUND
            position = (value if type(value) is int else _index_value(index, env)) - 1
            if position < 0 or isinstance(values, (mpmath.matrix, LazyMatrix)):
                return _entry_at(values, [position], expr)  # its errors, and a matrix's indexing
            try:
                return values[position]
            except IndexError:
                raise EvaluationError(f"index out of range in {expr}") from None
        return entry
    def run(env):
        values = env.array(name)
        positions = [_index_value(ix, env) - 1 for ix in indices]  # 1-based in the trees
        return _entry_at(values, positions, expr)
    return run


def _entry_at(values, positions, expr):
    if any(p < 0 for p in positions):
        raise EvaluationError(f"index out of range in {expr}")
    try:
        if isinstance(values, (mpmath.matrix, LazyMatrix)):
            return values[tuple(positions)] if len(positions) == 2 else values[positions[0]]
        return values[positions[0]]
    except IndexError:
        raise EvaluationError(f"index out of range in {expr}") from None


def _indexed_at(expr, name, positions):
    """x[3] and W[2, 1]: the 0-based position is fixed when compiled, not worked out at every call."""
    if len(positions) == 2 and min(positions) >= 0:
        def entry(env):  # W[2, 1], Y[n, k]: read N K times by a batch's loss at every evaluation
            values = env.array(name)
            if not isinstance(values, (mpmath.matrix, LazyMatrix)):
                return _entry_at(values, positions, expr)
            try:
                return values[positions]
            except IndexError:
                raise EvaluationError(f"index out of range in {expr}") from None
        return entry
    if len(positions) != 1 or positions[0] < 0:
        return lambda env: _entry_at(env.array(name), positions, expr)  # the general path, its errors
    position, = positions
    def run(env):
        try:
            return env.array(name)[position]
        except IndexError:
            raise EvaluationError(f"index out of range in {expr}") from None
    return run


def _kronecker(expr):
    a, b = (compile_expr(x) for x in expr.args)
    return lambda env: _ONE if a(env) == b(env) else _ZERO


_ONE, _ZERO = mpmath.mpf(1), mpmath.mpf(0)  # exact at any precision, and mpf values never change


SUMS_KEPT = 1024  # compiled sums a process keeps; a class's answers repeat a few (sum_k e^{z_k}, sum_k y_k)


@functools.lru_cache(maxsize=SUMS_KEPT)
def _sum(expr):
    """A sum's closure, compiled once per process: answers repeat the same sums (and the reader builds
    each once, see parse.sums), and compiling one walks it twice (_closed). The closure keeps nothing
    of the expression it was first met in; what it computes depends on the sum and the point alone."""
    run = _sum_of_terms(expr)
    if not _closed(expr):
        return run
    # No free index (sum_k e^{z_k}): one value per point, the same for every index assignment and every
    # answer evaluated there, so it is kept in the point's memo (reset whenever an array or one of the
    # point's scalars changes) by precision; the value is the one the sum computes.
    key = ("closed sum", expr)
    def once_per_point(env):
        memo, at = env.memo, (key, mpmath.mp.prec)
        if at not in memo:
            memo[at] = run(env)
        return memo[at]
    return once_per_point


def _closed(expr: sp.Sum) -> bool:
    """No symbol but K, the arrays' names and the sum's own indices: the value depends on the point alone
    (not on i, j, d or a scalar). Every symbol in the tree counts: SymPy's free_symbols leaves out the i
    of d sigma_k / d z_i, and an inner sum's index makes the sum count as open (it is rare)."""
    allowed = {K, *expr.variables, *(base.label for base in expr.atoms(sp.IndexedBase))}
    return expr.atoms(sp.Symbol) <= allowed


def _sum_of_terms(expr):
    general, function = _sum_in_general(expr), expr.function
    if len(expr.limits) != 1 or not isinstance(function, sp.Indexed) or function.indices != expr.limits[0][:1]:
        return general
    (_, lo, hi), = expr.limits
    # \sum_k y_k: the entries added in the same order, without binding k for each of them
    name, first, last = function.base.name, compile_expr(lo), compile_expr(hi)
    def run(env):
        start, stop = _index_value(first, env), _index_value(last, env)
        values = env.array(name) if start <= stop else None
        if type(values) is not list or start < 1 or stop > len(values):
            return general(env)  # no terms, a matrix, an index out of range: its value or its error
        total = mpmath.mpf(0)
        for position in range(start - 1, stop):
            total += values[position]
        return total
    return run


def _sum_in_general(expr):
    body = compile_expr(expr.function)
    limits = [(var, compile_expr(lo), compile_expr(hi)) for var, lo, hi in expr.limits]
    def run(env, level=0):
        if level == len(limits):
            return body(env)
        var, lo, hi = limits[level]
        values = range(_index_value(lo, env), _index_value(hi, env) + 1)
        total = mpmath.mpf(0)
        if var in env.scalars:  # rebinds a scalar of the point (or an outer Sum's): a copy per term
            for value in values:
                total += run(env.with_scalar(var, value), level + 1)
            return total
        child, scalars = env.with_index(var)
        for value in values:
            scalars[var] = value
            total += run(child, level + 1)
        return total
    return run


def _piecewise(expr):
    branches = [(compile_expr(e), _compile_condition(c)) for e, c in expr.args]
    def run(env):
        for value, condition in branches:
            if condition(env):
                return value(env)
        raise EvaluationError(f"no branch of {expr} applies")
    return run


def _compile_condition(cond):
    if cond == sp.true:
        return lambda env: True
    if cond == sp.false:
        return lambda env: False
    if isinstance(cond, sp.And):
        parts = [_compile_condition(c) for c in cond.args]
        return lambda env: all(p(env) for p in parts)
    if isinstance(cond, sp.Or):
        parts = [_compile_condition(c) for c in cond.args]
        return lambda env: any(p(env) for p in parts)
    if isinstance(cond, sp.Not):
        part = _compile_condition(cond.args[0])
        return lambda env: not part(env)
    ops = {sp.Eq: lambda a, b: a == b, sp.Ne: lambda a, b: a != b, sp.Ge: lambda a, b: a >= b,
           sp.Gt: lambda a, b: a > b, sp.Le: lambda a, b: a <= b, sp.Lt: lambda a, b: a < b}
    for kind, op in ops.items():
        if isinstance(cond, kind):
            lhs, rhs = compile_expr(cond.lhs), compile_expr(cond.rhs)
            return lambda env: op(lhs(env), rhs(env))
    raise EvaluationError(f"cannot evaluate condition {cond}")


def _derivative(expr):
    """Numeric derivative with mpmath.diff: the oracle independent of SymPy's differentiation."""
    *inner, (variable, order) = expr.variable_count
    # d/dz_j d/dz_i L (SymPy merges nested derivatives): the outer derivative of the inner one.
    body = compile_expr(sp.Derivative(expr.expr, *inner)) if inner else _compiled_body(expr.expr)
    if isinstance(variable, MatrixSymbol):
        return _jacobian(expr, body, variable)
    if isinstance(variable, sp.Indexed):
        name, index = variable.base.name, [compile_expr(ix) for ix in variable.indices]
        read = frozenset(expr.expr.atoms(sp.Symbol))  # what the differentiated body may read
        node = object()  # this derivative's key in a point's cache
        def run(env):
            position = tuple(_index_value(ix, env) - 1 for ix in index)
            cache = env.across_indices
            if cache is not None:
                # The value depends on the point, the position, the precision (as a closed sum's)
                # and the scalars the body reads, not on the entry indices it does not read:
                # dL/dz_k is the same for every (i, j).
                key = (node, position, mpmath.mp.prec, tuple(item for item in env.scalars.items()
                                                             if item[0] in read or item[0] not in env.entry_indices))
                if key in cache:
                    return cache[key]
            values = env.array(name)
            try:
                start = values[position if isinstance(values, mpmath.matrix) else position[0]]
            except IndexError:  # d/dz_9 at K = 4: there is no such input at this point
                raise NotAnInput(f"the derivative is taken with respect to {variable}, beyond the "
                                      f"inputs at this point") from None
            value = mpmath.diff(lambda t: body(env.with_entry(name, position, t)), start, order)
            if cache is not None:
                cache[key] = value
            return value
        return run
    if isinstance(variable, sp.Symbol):
        def run(env):
            if variable not in env.scalars:  # d/du where this question has no input u
                raise NotAnInput(f"the derivative is taken with respect to {variable}, which is not "
                                      f"an input of this question")
            return mpmath.diff(lambda t: body(env.with_scalar(variable, t)), env.scalars[variable], order)
        return run
    raise EvaluationError(f"cannot differentiate numerically with respect to {variable}")


# The same body (a loss of K terms) is differentiated by each of the K variables, one Derivative each:
# compiled once. Keyed by identity (the body is kept, so its id is not reused): the same object.
_BODIES: dict = {}
_BODIES_SIZE = 256


def _compiled_body(body):
    known = _BODIES.get(id(body))
    if known is not None and known[0] is body:
        return known[1]
    compiled = compile_expr(body)
    if len(_BODIES) >= _BODIES_SIZE:
        _BODIES.clear()
    _BODIES[id(body)] = (body, compiled)
    return compiled


def _jacobian(expr, body, variable):
    """d(vector)/d(vector) as J[r, c] = d out_r / d in_c (numerator layout); the gradient of a
    scalar as a column, entry c = d out / d in_c (the shape of the input); the gradient of a scalar
    with respect to a matrix has the matrix's shape."""
    name = variable.name
    def run(env):
        inputs = env.array(name)
        if isinstance(inputs, mpmath.matrix) and inputs.cols > 1:  # dL/dW: the shape of W
            grad = mpmath.matrix(inputs.rows, inputs.cols)
            for r in range(inputs.rows):
                for c in range(inputs.cols):
                    grad[r, c] = mpmath.diff(lambda t: body(env.with_entry(name, (r, c), t)), inputs[r, c])
            return grad
        size = inputs.rows if isinstance(inputs, mpmath.matrix) else len(inputs)
        out0 = body(env)
        if not isinstance(out0, mpmath.matrix):
            return mpmath.matrix([mpmath.diff(lambda t: body(env.with_entry(name, (c,), t)), inputs[c])
                                  for c in range(size)])
        jac = mpmath.matrix(out0.rows, size)
        for c in range(size):
            # mpmath.diff for each row r evaluates the whole output at the same z_c +- h: once for all r
            outputs = _by_argument(lambda t: body(env.with_entry(name, (c,), t)))
            for r in range(out0.rows):
                jac[r, c] = mpmath.diff(lambda t: outputs(t)[r], inputs[c])
        return jac
    return run


def _by_argument(fn):
    """fn memoised on (argument, working precision, rounding), which fix its value; other arguments
    are passed through."""
    values = {}
    def run(t):
        if type(t) is not mpmath.mpf:
            return fn(t)
        key = (t._mpf_, *mpmath.mp._prec_rounding)
        if key not in values:
            values[key] = fn(t)
        return values[key]
    return run


def _explicit_matrix(expr):
    cells = [[compile_expr(expr[r, c]) for c in range(expr.cols)] for r in range(expr.rows)]
    def run(env):
        out = mpmath.matrix(expr.rows, expr.cols)
        for r, row in enumerate(cells):
            for c, cell in enumerate(row):
                out[r, c] = cell(env)
        return out
    return run


def _matrix_symbol(expr):
    def run(env):
        values = env.array(expr.name)
        if isinstance(values, LazyMatrix):
            return values.as_matrix()
        return values.copy() if isinstance(values, mpmath.matrix) else mpmath.matrix(values)
    return run


def _diag_matrix(expr):
    inner = compile_expr(expr.args[0])
    def run(env):
        vector = inner(env)
        return mpmath.diag([vector[r] for r in range(vector.rows)])
    return run


def _transpose(expr):
    inner = compile_expr(expr.args[0])
    return lambda env: inner(env).T


def _hadamard(expr):
    parts = [compile_expr(a) for a in expr.args]
    def run(env):
        product = parts[0](env)
        for part in parts[1:]:
            other = part(env)
            if (product.rows, product.cols) != (other.rows, other.cols):
                raise EvaluationError(f"Hadamard product of mismatched shapes in {expr}")
            product = mpmath.matrix([[product[r, c] * other[r, c] for c in range(product.cols)]
                                     for r in range(product.rows)])
        return product
    return run


def _matrix_element(expr):
    parent = compile_expr(expr.parent)
    i_, j_ = compile_expr(expr.i), compile_expr(expr.j)
    return lambda env: parent(env)[_index_value(i_, env), _index_value(j_, env)]


def _ones(expr):
    return lambda env: mpmath.ones(_index_value(compile_expr(expr.rows), env), _index_value(compile_expr(expr.cols), env))


def _identity(expr):
    return lambda env: mpmath.eye(_index_value(compile_expr(expr.rows), env))


# The builder each node type gets from _DISPATCH (the first kind it is an instance of), found once per type.
_BUILDER_OF: dict[type, Callable] = {}

_DISPATCH: list[tuple[type, Callable]] = [
    (sp.MatrixBase, _explicit_matrix),
    (DiagMatrix, _diag_matrix),
    (MatrixSymbol, _matrix_symbol),
    (Transpose, _transpose),
    (MatrixElement, _matrix_element),
    (HadamardProduct, _hadamard),
    (MatAdd, _add),
    (MatMul, _mul),
    (sp.OneMatrix, _ones),
    (sp.Identity, _identity),
    (sp.Derivative, _derivative),
    (sp.Sum, _sum),
    (sp.Piecewise, _piecewise),
    (sp.KroneckerDelta, _kronecker),
    (sp.Indexed, _indexed),
    (sp.exp, _unary(mpmath.exp)),
    (sp.log, _log),
    (sp.Abs, _unary(abs)),
    (sp.Add, _add),
    (sp.Mul, _mul),
    (sp.Pow, _pow),
    (sp.Rational, _number),
    (sp.Float, _number),
    (sp.NumberSymbol, _constant),
    (sp.Symbol, _symbol),
]
