"""The sandboxed side of check-code --run: import the submission, call it on each case (twice), print JSON.

Run as a script (python -I child.py) in a fresh process with resource limits (see sandbox.py); it
imports nothing of derive, reads one request on stdin and writes one JSON answer on its own copy
of stdout. Anything the submission prints goes to stderr, so it cannot forge the answer. A second
round calls the cases again, in the request's order (`repeats`) and in the same process, so a result
that depends on earlier calls shows.
"""
import importlib.util
import json
import os
import sys


def _emit(fd, payload):
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(payload))


def _array(spec, framework):
    import numpy as np
    data = np.asarray(spec["data"], dtype=spec["dtype"])
    if framework == "torch":
        import torch
        tensor = torch.from_numpy(data)
        if spec.get("grad"):
            tensor.requires_grad_(True)
        return tensor
    return data


def _plain(value):
    if value is None:
        return None
    if isinstance(value, tuple) or (isinstance(value, list) and _ragged(value)):
        return {"kind": "tuple", "items": [_plain(v) for v in value]}
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    import numpy as np
    array = np.asarray(value, dtype=float)
    return {"kind": "array", "shape": list(array.shape), "value": array.tolist()}


STORED = ("dinputs", "dx", "dX", "grad_input", "dz", "delta")  # a backward that returns nothing stores it


def _stored(result, layer):
    if result is not None:
        return result
    return next((getattr(layer, name) for name in STORED if getattr(layer, name, None) is not None), None)


def _ragged(items):
    """A list of arrays of different shapes is several results; a nested list of numbers is one array."""
    import numpy as np
    try:
        np.asarray(items, dtype=float)
    except (ValueError, TypeError):
        return True
    return False


def _call(target, request, case):
    framework, kind = request["framework"], request["kind"]
    args = [_array(spec, framework) for spec in case["args"]]
    named = {spec["name"]: value for spec, value in zip(case["args"], args)}  # by name: skipped options keep defaults
    if kind == "function":
        return _plain(target(**named))
    if kind == "method":
        instance = target()
        return _plain(_stored(getattr(instance, request["method"])(**named), instance))
    if kind == "layer":
        layer = target()
        getattr(layer, request["forward"])(**named)
        backward = {spec["name"]: _array(spec, framework) for spec in case["backward"]}
        return _plain(_stored(getattr(layer, request["backward"])(**backward), layer))
    upstream = _array(case["upstream"], framework)
    output = target.apply(*args)  # torch.autograd.Function: gradients arrive in the inputs' .grad
    output.backward(upstream)
    return _plain(tuple(a.grad if getattr(a, "requires_grad", False) else None for a in args))


def main():
    answer = os.dup(1)
    os.dup2(2, 1)  # the submission's prints go to stderr
    request = json.loads(sys.stdin.read())
    try:
        spec = importlib.util.spec_from_file_location("submission", request["path"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        target = getattr(module, request["name"].split(".")[0])
    except BaseException as error:  # the submission's failure is a finding, reported, never re-raised
        _emit(answer, {"error": f"import failed: {type(error).__name__}: {error}"[:400]})
        return
    results = [_result(target, request, case) for case in request["cases"]]
    # The same inputs again (a second round): a result that changed shows state kept between calls.
    repeated = [_result(target, request, request["cases"][index]) for index in request["repeats"]]
    _emit(answer, {"results": results, "repeated": repeated})


def _result(target, request, case):
    try:
        return {"output": _call(target, request, case)}
    except BaseException as error:
        return {"error": f"{type(error).__name__}: {error}"[:400]}


if __name__ == "__main__":
    main()
